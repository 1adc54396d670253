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
#include <deque>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace broker::detail {

struct connector; // core/connectors.hh

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

/// Accepted connections still in their TLS or Broker handshake, oldest
/// first, so that at most a given number of them hold sockets.
class pending_streams {
public:
  /// Adds `s`; returns the streams beyond `cap` (oldest first), which the
  /// caller drops.
  std::vector<std::shared_ptr<net::stream>>
  admit(const std::shared_ptr<net::stream>& s, size_t cap);

  /// `s` finished its handshake.
  void forget(const std::shared_ptr<net::stream>& s);

private:
  std::deque<std::weak_ptr<net::stream>> streams_;
};

/// Streams of removed connections that still write out their queues:
/// shutdown waits for them, so that every socket really closes.
class closing_streams {
public:
  void add(std::shared_ptr<net::stream> s);
  /// Whether all have closed (forgetting those that did).
  bool all_closed();
  void abort_all();

private:
  std::vector<std::shared_ptr<net::stream>> streams_;
};

/// The status context of a connection: the peer's id once known, and the
/// address we dialled (or the remote address of one we accepted).
endpoint_info info_of(const connection& c);

} // namespace broker::detail
