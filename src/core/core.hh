#pragma once

// The core of an endpoint: peers, handshakes, routing, subscriptions and
// statuses. One I/O thread (net::loop) owns all of this state; public
// member functions are thread-safe and post work to that thread. Blocking
// ones wait on a future and are never called on the I/O thread.

#include "broker/configuration.hh"
#include "broker/data.hh"
#include "broker/endpoint_id.hh"
#include "broker/endpoint_info.hh"
#include "broker/expected.hh"
#include "broker/message.hh"
#include "broker/peer_info.hh"
#include "broker/status.hh"
#include "core/filter.hh"
#include "core/handshake.hh"
#include "core/overlay.hh"
#include "core/participant.hh"
#include "core/queue.hh"
#include "format/bin/envelope.hh"
#include "net/loop.hh"
#include "net/stream.hh"
#include "net/tcp.hh"
#include "net/tls.hh"
#include "util/flare.hh"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace broker::detail {

using subscriber_queue = bounded_queue<data_message_ptr>;
using status_queue = bounded_queue<status_event>;

/// A message published by this endpoint: the complete frame, encoded once
/// by the publishing thread and shared among all peers it goes to.
struct outgoing_message {
  std::string topic;
  endpoint_id receiver; // nil: by topic
  net::frame_ptr frame;
  /// A data message's value, for local subscribers and participants. Set by
  /// participants (whose publications local subscribers receive); left
  /// empty by local code, whose messages are decoded from `frame` only when
  /// a participant wants them.
  data_message_ptr value = nullptr;
  /// The participant that published it (never echoed back to it), or none
  /// for local code.
  std::optional<participant_id> from = std::nullopt;
};

/// Builds the complete frame of a command message.
net::frame_ptr make_command_frame(const endpoint_id& sender,
                                  const endpoint_id& receiver,
                                  std::string_view topic,
                                  std::span<const std::byte> payload);

/// Builds the complete frame of a data message.
net::frame_ptr make_data_frame(const endpoint_id& sender,
                               const endpoint_id& receiver, uint16_t ttl,
                               std::string_view topic, const data& value);

class core : public std::enable_shared_from_this<core> {
public:
  /// @throws std::invalid_argument when the TLS settings cannot be used
  /// (a missing or unreadable file, a wrong passphrase, a key that does not
  /// match the certificate), naming the setting, the file and the problem.
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
  bool await_peer(const endpoint_id& node,
                  std::chrono::steady_clock::time_point deadline);

  /// Adds topics this endpoint relays without subscribing to them.
  void forward(std::vector<std::string> topics);

  // -- publishing ----------------------------------------------------------------

  /// Queues messages for the peers. Blocks while the publish queue is full
  /// (backpressure from slow peers), until `deadline`.
  /// @returns false if the endpoint is shut down or the deadline passed.
  bool publish(std::vector<outgoing_message> msgs,
               std::chrono::steady_clock::time_point deadline);

  /// Frames waiting in the publish queue, and its capacity.
  size_t publish_queue_size();
  size_t publish_queue_capacity() const noexcept { return pub_capacity_; }

  /// Readable while the publish queue has room (Publisher.fd()).
  int publish_fd() const noexcept { return pub_flare_.fd(); }

  // -- participants (docs/architecture.md) ----------------------------------------

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
                    std::chrono::steady_clock::time_point deadline);

  /// publish_from() on the I/O thread: routes at once, never blocks; full
  /// peers get their overflow policy, as for relayed messages.
  void route_from(participant_id id, outgoing_message msg);

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
  void emit_status(sc code, const endpoint_info& ctx, std::string msg);
  void emit_error(ec code, const endpoint_info& ctx, std::string msg);

  /// Records that this endpoint hosts the master `name`.
  /// @returns false if it already does.
  bool claim_master(const std::string& name);
  void release_master(const std::string& name);

  /// A fresh object id for a store entity on this endpoint.
  uint64_t next_object_id() noexcept { return next_object_id_ += 2; }

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
  struct connection;
  struct connector;
  friend struct connection;

  /// Runs `f` on the I/O thread and waits for its result; nullopt (false
  /// for void) when a shutdown stopped the thread before it ran.
  template <class F>
  auto run_blocking(F f);

  // All below run on the I/O thread.

  void on_accept(expected<std::shared_ptr<net::stream>> s);
  void on_arrival(const std::shared_ptr<net::stream>& s);
  timespan handshake_timeout() const;
  void start_connection(std::shared_ptr<net::stream> s,
                        handshake::role r, connector* origin);
  void connect(connector& c);
  void on_connect_failed(connector& c, const error& err);
  void handle_frame(connection& c, std::span<const std::byte> payload);
  void handle_handshake_frame(connection& c,
                              std::span<const std::byte> payload);
  void handle_envelope(connection& c, std::span<const std::byte> payload);
  void handle_closed(connection& c, const error& reason);
  void on_written();
  void await_flushed(std::chrono::steady_clock::time_point deadline);
  void send_handshake(connection& c,
                      const std::vector<format::bin::handshake_msg>& msgs);
  void on_peered(connection& c);
  void adopt_peering(connector& origin, const endpoint_id& peer);
  void on_connection_gone(connection& c, const error& reason);
  void drop_connection(connection& c, ec code, const std::string& why);
  /// Data frames are subject to the peer's overflow policy; control frames
  /// (routing, pongs, overlay updates) always go in.
  enum class frame_kind { data, control };
  void send_to(connection& c, net::frame_ptr frame, frame_kind kind);
  bool peer_full(const connection& c) const noexcept;
  /// Whether a local publisher must wait before sending to `targets`: one
  /// of them is full, not yet for peer_full_grace (others have room) or
  /// publish_stall_timeout (none has), and not already under its overflow
  /// policy.
  bool must_wait(const std::vector<connection*>& targets);
  void drain_publish_queue();
  /// Delivers a data message to local subscribers and participants whose
  /// topics match: `from` names who sent it (a peer, a participant, or
  /// local code), and `make` builds the shared message when first needed.
  struct message_source {
    connection* peer = nullptr;
    std::optional<participant_id> participant;
    bool local_code = false;
  };
  template <class MakeMessage>
  void deliver_data(const std::string& topic, const message_source& from,
                    MakeMessage make);
  void route_outgoing(const outgoing_message& msg,
                      const std::vector<connection*>& targets);
  std::vector<connection*> targets_of(const outgoing_message& msg);
  void forward_frame(connection& from, const format::bin::envelope_view& env,
                     std::span<const std::byte> payload);
  void resume_paused();
  void deliver_command(const std::string& topic,
                       std::span<const std::byte> payload,
                       std::optional<participant_id> skip);
  void refresh_routing();
  void update_filters();
  void update_local_interest();
  filter_type local_filter() const;
  filter_type filter_for(const connection& c);
  void send_overlay_update(connection& c, const overlay::update& u);
  void handle_overlay_update(connection& c, std::span<const std::byte> payload);
  bool overlay_routed(const connection& c) const noexcept;
  /// The peer a message addressed to `node` goes to next: the node itself
  /// when it is a direct peer, else the overlay's next hop; or nullptr.
  connection* next_hop_to(const endpoint_id& node);
  /// Whether a message on `topic` goes to `c`: by the overlay's next `hops`
  /// when `c` is overlay-routed, else by its filter.
  bool gets(const connection& c, const std::vector<endpoint_id>& hops,
            std::string_view topic) const;
  void send_bye(connection& c);
  void emit(status_event ev);
  endpoint_info info_of(const connection& c) const;
  void publish_peered_snapshot();
  void finish_shutdown();
  bool is_redundant(const endpoint_id& peer, bool include_pending,
                    const connection* self) const;
  handshake::context make_context(connection& c);
  void remove_connection(connection& c);

  configuration cfg_;
  endpoint_id id_;
  net::loop loop_;
  net::tls_context_ptr tls_; // null with disable_ssl

  // -- state owned by the I/O thread -----------------------------------------------

  std::vector<std::shared_ptr<net::listener>> listeners_;
  std::set<std::shared_ptr<connection>> connections_;
  // Streams of removed connections still writing out their queues.
  std::vector<std::shared_ptr<net::stream>> closing_streams_;
  std::unordered_map<endpoint_id, connection*> peered_;
  std::map<std::string, std::unique_ptr<connector>> connectors_;
  struct subscription {
    std::shared_ptr<subscriber_queue> queue;
    filter_type topics;
  };
  std::vector<subscription> subscribers_;
  std::vector<std::pair<std::shared_ptr<status_queue>, bool>> status_subs_;
  filter_type forwards_;
  struct participant {
    participant_id id;
    filter_type topics;
    participant_hooks hooks;
  };
  std::vector<participant> participants_;
  participant_id next_participant_id_ = 1;
  std::vector<std::pair<std::string, std::shared_ptr<std::atomic<bool>>>>
    interest_watches_;
  std::atomic<uint64_t> next_object_id_{7}; // 9, 11, ...: as real Broker's
  overlay overlay_; // routing among our own endpoints
  // Accepted connections still in their handshake, oldest first.
  std::deque<std::weak_ptr<net::stream>> pending_;
  std::set<connection*> paused_;
  bool waiting_for_writes_ = false;
  uint64_t bye_counter_ = 0;
  bool shutting_down_ = false;
  std::function<void()> on_shutdown_done_;

  // -- shared with API threads ------------------------------------------------------

  std::mutex pub_mtx_;
  std::condition_variable pub_cv_;
  std::deque<outgoing_message> pub_queue_;
  bool pub_scheduled_ = false;
  size_t pub_capacity_ = 8192;
  // Lit while pub_queue_ has room; toggled only on full <-> not full.
  flare pub_flare_;

  std::mutex snap_mtx_;
  std::condition_variable snap_cv_;
  std::set<endpoint_id> peered_snapshot_;

  std::atomic<bool> stopped_{false};
  std::mutex shutdown_mtx_;
  std::mutex masters_mtx_;
  std::set<std::string> masters_;
};

} // namespace broker::detail
