#pragma once

// Routing among peered connections: filters (ours as each peer should see
// it, and theirs), the overlay among our own endpoints, forwarding, flow
// control towards peers, and delivery to local consumers. Owned by the I/O
// thread. The peer manager hands it peered connections and their frames;
// it calls back only through `connection_owner`.

#include "broker/configuration.hh"
#include "broker/endpoint_id.hh"
#include "broker/error.hh"
#include "core/connection.hh"
#include "core/local_consumers.hh"
#include "core/overlay.hh"
#include "core/publish_queue.hh"
#include "core/statuses.hh"
#include "format/bin/envelope.hh"
#include "net/loop.hh"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace broker::detail {

/// What the router asks of whoever owns the connections.
class connection_owner {
public:
  virtual ~connection_owner() = default;
  /// Ends `c` for a protocol error, reported with `code` and `why`.
  virtual void drop(connection& c, ec code, const std::string& why) = 0;
  /// Ends `c` at once because of our overflow policy; `why` is the reason
  /// the PeerRemoved status gives.
  virtual void disconnect(connection& c, const std::string& why) = 0;
  /// A pong arrived (BYE handshakes are the owner's).
  virtual void on_pong(connection& c, std::span<const std::byte> payload) = 0;
};

class router {
public:
  router(const configuration& cfg, const endpoint_id& id, net::loop& loop,
         statuses& st, local_consumers& locals, publish_queue& pubq);

  void set_owner(connection_owner& owner) { owner_ = &owner; }

  // -- peers -------------------------------------------------------------------

  /// `c` finished its handshake: it takes part in routing from now on.
  void add_peer(connection& c);

  /// `c` is gone (after add_peer).
  void remove_peer(connection& c);

  bool is_peered(const endpoint_id& id) const { return peered_.count(id) > 0; }
  connection* peered(const endpoint_id& id) const;
  const std::unordered_map<endpoint_id, connection*>& peered() const {
    return peered_;
  }

  /// Our filter as `c` should know it (the handshake sends it).
  filter_type filter_for(const connection& c);

  /// A frame from a peered connection.
  void handle_envelope(connection& c, std::span<const std::byte> payload);

  /// A peer's stream wrote something out: flow control may go on.
  void on_written();

  // -- local side ----------------------------------------------------------------

  /// Local consumers or forwarded topics changed: tell the peers.
  void refresh_routing();

  void add_forwards(filter_type topics);

  /// Sends what local publishers queued (I/O thread; posted by the queue).
  void drain_publish_queue();

  /// Routes a participant's message at once (overflow policies apply).
  void route_now(const outgoing_message& msg);

  /// Routes a participant's message unless a target peer is full and may
  /// still hold it back (must_wait, as for local publishers): then returns
  /// false and routes nothing; callbacks given to when_room() run once the
  /// peers make progress or their time is up.
  bool try_route_now(const outgoing_message& msg);

  /// Runs `f` once, at the next sign of room (see try_route_now).
  void when_room(std::function<void()> f);

  std::vector<std::string> peer_subscriptions() const;
  bool peer_subscribed_exactly(const std::string& topic);

  /// Waits until `node` is reachable or the deadline passes. Thread-safe.
  bool await_peer(const endpoint_id& node,
                  std::chrono::steady_clock::time_point deadline);

  /// Shutting down: stop recomputing routes; wake await_peer waiters.
  void stop();

private:
  void publish_reachable();
  void update_filters();
  filter_type local_filter() const;
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
  std::vector<connection*> targets_of(const outgoing_message& msg);
  void route_outgoing(const outgoing_message& msg,
                      const std::vector<connection*>& targets);
  /// Relays a peer's message onwards; whether it went to any peer.
  bool forward_frame(connection& from, const format::bin::envelope_view& env,
                     std::span<const std::byte> payload);
  void send_to(connection& c, net::frame_ptr frame, frame_kind kind);
  bool peer_full(const connection& c) const noexcept;
  /// Whether a local publisher must wait before sending to `targets`: one
  /// of them is full, not yet for peer_full_grace (others have room) or
  /// publish_stall_timeout (none has), and not already under its overflow
  /// policy.
  bool must_wait(const std::vector<connection*>& targets);

  const configuration& cfg_;
  endpoint_id id_;
  net::loop& loop_;
  statuses& statuses_;
  local_consumers& locals_;
  publish_queue& pubq_;
  connection_owner* owner_ = nullptr;

  std::unordered_map<endpoint_id, connection*> peered_;
  overlay overlay_; // routing among our own endpoints
  filter_type forwards_;
  bool waiting_for_writes_ = false;
  std::vector<std::function<void()>> room_waiters_;
  void notify_room();
  bool stopping_ = false;

  // Shared with API threads (await_peer): who is reachable.
  std::mutex reach_mtx_;
  std::condition_variable reach_cv_;
  std::set<endpoint_id> reachable_;
  bool reach_closed_ = false;
};

} // namespace broker::detail
