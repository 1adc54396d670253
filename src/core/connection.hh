#pragma once

// One connection to a peer, from its first byte to its last, and the dial
// state behind a connection we opened. The peer manager owns both; the
// router reads and writes the routing fields of peered connections.

#include "broker/endpoint_info.hh"
#include "core/filter.hh"
#include "core/handshake.hh"
#include "net/loop.hh"
#include "net/stream.hh"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace broker::detail {

struct connection;

/// A peering the user asked for with peer(): where to dial, how often to
/// retry, who waits for the outcome.
struct connector {
  std::string address;
  uint16_t port = 0;
  double retry = 0;
  net::loop::timer_id timer = 0;
  connection* conn = nullptr;
  std::optional<endpoint_id> peer;
  std::vector<std::function<void(bool)>> waiters;
  bool ever_peered = false;
  bool unpeering = false;

  /// Tells everyone waiting for the outcome.
  void answer(bool peered) {
    auto ws = std::move(waiters);
    waiters.clear();
    for (auto& w : ws)
      w(peered);
  }
};

/// Where a connector dials: connectors are keyed by it.
using dial_key = std::pair<std::string, uint16_t>;

/// Which frames a full peer buffer may refuse: data frames are subject to
/// the peer's overflow policy; control frames (routing, pongs, overlay
/// updates) always go in.
enum class frame_kind { data, control };

struct connection {
  std::shared_ptr<net::stream> stream;
  handshake hs;
  connector* origin = nullptr; // set for connections we dialled
  bool peered = false;
  bool gone = false;

  // -- routing (the router's) --------------------------------------------------
  filter_type filter;     // the peer's subscriptions
  filter_type advertised; // our filter as the peer knows it (grows only)
  bool ours = false;      // the peer speaks overlay updates (one of ours)
  bool dropping = false;  // a drop policy is dropping for this peer
  // Since when a local publisher has found this peer's buffer full.
  std::optional<std::chrono::steady_clock::time_point> full_since;

  // -- ending (the peer manager's) ---------------------------------------------
  std::optional<uint64_t> bye_id;
  net::loop::timer_id bye_timer = 0;
  net::loop::timer_id handshake_timer = 0;
  std::function<void()> after_bye;
  bool removed_by_us = false;
  std::string removal_reason; // for the PeerRemoved status, when not unpeer

  explicit connection(handshake::role r) : hs(r) {}
};

/// The status context of a connection: the peer's id once known, and the
/// address we dialled (or the remote address of one we accepted).
endpoint_info info_of(const connection& c);

} // namespace broker::detail
