#pragma once

// Opening, binding and listening with an Asio acceptor, shared by the
// native (tcp.hh) and WebSocket (ws_listener.hh) listeners. Private to
// src/net.

#include "broker/expected.hh"
#include "net/asio.hh"

#include <string>

namespace broker::net {

/// Binds `acc` to `address` ("" = all interfaces, IPv4 and IPv6 when the
/// host has IPv6) and `port` (0 = pick one) and starts listening.
/// @returns the bound port or ec::peer_unavailable.
expected<uint16_t> bind_acceptor(asio::ip::tcp::acceptor& acc,
                                 const std::string& address, uint16_t port);

} // namespace broker::net
