#pragma once

// The core of an endpoint. It wires its parts and owns statuses and
// shutdown:
//
//   core ──> peer_manager ──> router ──> local_consumers
//     │       (connections,    (filters,    (subscriber queues,
//     │        handshakes,      overlay,     participants)
//     │        BYE, retry)      forwarding,
//     │                         flow control)
//     └──> publish_queue (publishers -> I/O thread), statuses
//
// One I/O thread (net::loop) owns all of their state; the public member
// functions here are thread-safe and post work to that thread. Blocking
// ones wait with a deadline and are never called on the I/O thread.

#include "broker/configuration.hh"
#include "broker/data.hh"
#include "broker/endpoint_id.hh"
#include "broker/endpoint_info.hh"
#include "broker/expected.hh"
#include "broker/message.hh"
#include "broker/peer_info.hh"
#include "broker/status.hh"
#include "core/local_consumers.hh"
#include "core/participant.hh"
#include "core/peer_manager.hh"
#include "core/publish_queue.hh"
#include "core/router.hh"
#include "core/statuses.hh"
#include "net/loop.hh"
#include "net/tls.hh"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace broker::detail {

class core : public std::enable_shared_from_this<core> {
public:
  using clock = std::chrono::steady_clock;

  /// @throws std::invalid_argument when a setting cannot be honoured (the
  /// TLS files: missing, unreadable, wrong passphrase, key not matching
  /// the certificate; simulated time; a ./broker.conf we would ignore),
  /// naming the setting and the problem.
  explicit core(configuration cfg);
  ~core();

  core(const core&) = delete;
  core& operator=(const core&) = delete;

  /// Starts the I/O thread.
  void start();

  const endpoint_id& id() const noexcept { return id_; }

  const configuration& config() const noexcept { return cfg_; }

  // -- peering ------------------------------------------------------------------

  /// Listens on `address`:`port` (port 0 picks one). Blocks briefly.
  expected<uint16_t> listen(const std::string& address, uint16_t port);

  /// Starts peering; `done` runs on the I/O thread with the first outcome
  /// (true once peered, false when the first attempt definitely failed).
  /// With retry > 0 failed and lost connections are retried until unpeer().
  void peer(const std::string& address, uint16_t port, double retry,
            std::function<void(bool)> done);

  /// Ends a peering we started (graceful BYE) and stops its retries.
  /// `done(false)` when there was none.
  void unpeer(const std::string& address, uint16_t port,
              std::function<void(bool)> done);

  std::vector<peer_info> peers();

  /// Topics the direct peers subscribe to (their filters, merged).
  std::vector<std::string> peer_subscriptions();

  /// Waits until peered with `node` or the deadline passes.
  bool await_peer(const endpoint_id& node, clock::time_point deadline);

  /// Adds topics this endpoint relays without subscribing to them.
  void forward(std::vector<std::string> topics);

  // -- publishing ----------------------------------------------------------------

  /// Queues messages for the peers. Blocks while the publish queue is full
  /// (backpressure from slow peers), until `deadline`.
  /// @returns false if the endpoint is shut down or the deadline passed.
  bool publish(std::vector<outgoing_message> msgs, clock::time_point deadline);

  /// Frames waiting in the publish queue, and its capacity.
  size_t publish_queue_size() { return pubq_.size(); }
  size_t publish_queue_capacity() const noexcept { return pubq_.capacity(); }

  /// Readable while the publish queue has room (Publisher.fd()).
  int publish_fd() const noexcept { return pubq_.fd(); }

  // -- participants (stores, WebSocket clients) ------------------------------------

  /// Adds a participant that receives messages on `topics` (advertised to
  /// peers like a subscription). nullopt once shut down.
  std::optional<participant_id> add_participant(std::vector<std::string> topics,
                                                participant_hooks hooks);

  void set_participant_topics(participant_id id,
                              std::vector<std::string> topics);

  /// Removes a participant; its hooks do not run after this returns.
  void remove_participant(participant_id id);

  /// Publishes for a participant: to peers (by topic, or only towards
  /// `receiver`), local subscribers and other participants. Blocks while
  /// the publish queue is full, until `deadline`. Not on the I/O thread.
  bool publish_from(participant_id id, std::vector<outgoing_message> msgs,
                    clock::time_point deadline);

  /// publish_from() on the I/O thread: routes at once, never blocks; full
  /// peers get their overflow policy, as for relayed messages.
  void route_from(participant_id id, outgoing_message msg);

  /// route_from() with the flow control local publishers get: while a
  /// target peer's full buffer may still hold it back, routes nothing and
  /// returns false; `on_room` then runs (on the I/O thread) once there may
  /// be room, and the caller tries again. For participants that can stop
  /// reading their own input (a WebSocket client's socket).
  bool try_route_from(participant_id id, outgoing_message& msg,
                      std::function<void()> on_room);

  /// A flag that is true while a local subscriber's filter matches `topic`
  /// (say, the store events topic: producers skip building unwanted
  /// messages).
  std::shared_ptr<const std::atomic<bool>> watch_interest(std::string topic);

  /// Peers' filters name `topic` exactly (say, another master's topic).
  bool peer_subscribed_exactly(const std::string& topic);

  /// Delivers a message to local subscribers only (store events).
  void deliver_local_only(std::string topic, data value);

  /// Reports an error on the status subscribers (e.g. a store's TypeClash).
  void report_error(ec code, std::string message);

  /// The I/O thread's loop and the TLS settings, for participants that
  /// open their own connections (WebSocket).
  net::loop& loop() noexcept { return loop_; }
  const net::tls_context_ptr& tls_context() const noexcept { return tls_; }

  /// Status events (I/O thread).
  void emit_status(sc code, const endpoint_info& ctx, std::string msg) {
    statuses_.emit_status(code, ctx, std::move(msg));
  }
  void emit_error(ec code, const endpoint_info& ctx, std::string msg) {
    statuses_.emit_error(code, ctx, std::move(msg));
  }

  // -- subscribing ---------------------------------------------------------------

  std::shared_ptr<subscriber_queue> subscribe(std::vector<std::string> topics,
                                              size_t capacity);

  void add_topic(const std::shared_ptr<subscriber_queue>& q,
                 std::string topic, std::function<void()> done);

  void remove_topic(const std::shared_ptr<subscriber_queue>& q,
                    std::string topic, std::function<void()> done);

  void unsubscribe(const std::shared_ptr<subscriber_queue>& q);

  std::shared_ptr<status_queue> subscribe_status(bool receive_statuses);

  void unsubscribe_status(const std::shared_ptr<status_queue>& q);

  // -- lifetime ------------------------------------------------------------------

  /// Says BYE to every peer, flushes pending messages, closes everything
  /// and joins the I/O thread. Idempotent. Must not run on the I/O thread.
  void shutdown();

  bool stopped() const noexcept { return stopped_; }

  /// Waits for `fut`, which work posted to the I/O thread fulfils.
  /// @returns nullopt when the I/O thread stopped first: a shutdown raced
  /// the call and the work will never run (no wait without an end).
  template <class T>
  std::optional<T> await(std::future<T>& fut) const {
    using namespace std::chrono_literals;
    while (fut.wait_for(10ms) != std::future_status::ready)
      if (loop_.stopped() && fut.wait_for(0s) != std::future_status::ready)
        return std::nullopt;
    return fut.get();
  }

  /// await() for work without a result: whether it ran.
  bool await_done(std::future<void>& fut) const {
    using namespace std::chrono_literals;
    while (fut.wait_for(10ms) != std::future_status::ready)
      if (loop_.stopped() && fut.wait_for(0s) != std::future_status::ready)
        return false;
    fut.get();
    return true;
  }

private:
  /// Runs `f` on the I/O thread and waits for its result; nullopt (false
  /// for void) when a shutdown stopped the thread before it ran. On the
  /// I/O thread itself, runs `f` at once.
  template <class F>
  auto run_blocking(F f);

  configuration cfg_;
  endpoint_id id_;
  net::loop loop_;
  net::tls_context_ptr tls_; // null with disable_ssl
  statuses statuses_;
  local_consumers locals_;
  publish_queue pubq_;
  router router_;
  peer_manager peers_;

  std::atomic<bool> stopped_{false};
  std::mutex shutdown_mtx_;
};

} // namespace broker::detail
