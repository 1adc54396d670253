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

using data_message_ptr = std::shared_ptr<const broker::data_message>;
using subscriber_queue = bounded_queue<data_message_ptr>;
using status_queue = bounded_queue<status_event>;

/// A message published by this endpoint: the complete frame, encoded once
/// by the publishing thread and shared among all peers it goes to.
struct outgoing_message {
  std::string topic;
  endpoint_id receiver; // nil: by topic
  net::frame_ptr frame;
  /// For commands: the local sink that sent it (never echoed back to it),
  /// or 0 for data messages (which are never delivered locally).
  uint64_t command_source = 0;
};

/// A store command as a local sink receives it: its topic and the payload
/// bytes of the envelope (a wire-v1 store command).
struct command_message {
  std::string topic;
  std::vector<std::byte> payload;
};

/// Receives store commands on the I/O thread; must not block.
using command_sink = std::function<void(command_message)>;

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

  // -- store commands -----------------------------------------------------------

  /// Registers a sink for store commands on topics starting with `topic`
  /// (advertised to peers like a subscription). @returns the sink's id.
  uint64_t add_command_sink(std::string topic, command_sink sink);

  void remove_command_sink(uint64_t id);

  /// Sends a store command: to peers (by topic, or only to `receiver`) and
  /// to other local sinks whose topic matches. Blocks while the publish
  /// queue is full.
  bool publish_command(uint64_t source_sink, const std::string& topic,
                       const endpoint_id& receiver,
                       std::span<const std::byte> payload);

  /// Topics of our peers' filters include `topic` (e.g. another master).
  bool peer_subscribed_exactly(const std::string& topic);

  /// Whether a local subscriber listens to store events (so stores can
  /// skip building them).
  bool store_events_wanted() const noexcept {
    return store_events_wanted_.load(std::memory_order_relaxed);
  }

  /// Delivers a message to local subscribers only (store events).
  void deliver_local_only(std::string topic, data value);

  /// Reports an error on the status subscribers (e.g. a store's TypeClash).
  void report_error(ec code, std::string message);

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
  void deliver_local(const std::string& topic, data value,
                     connection* source);
  void forward_frame(connection& from, const format::bin::envelope_view& env,
                     std::span<const std::byte> payload);
  void resume_paused();
  void deliver_command_local(const std::string& topic,
                             std::span<const std::byte> payload,
                             uint64_t skip);
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
  void emit_status(sc code, const endpoint_info& ctx, std::string msg);
  void emit_error(ec code, const endpoint_info& ctx, std::string msg);
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
  struct sink_entry {
    uint64_t id;
    std::string topic;
    command_sink fn;
  };
  std::vector<sink_entry> command_sinks_;
  uint64_t next_sink_id_ = 1;
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
  std::atomic<bool> store_events_wanted_{false};
  std::mutex shutdown_mtx_;
  std::mutex masters_mtx_;
  std::set<std::string> masters_;
};

} // namespace broker::detail
