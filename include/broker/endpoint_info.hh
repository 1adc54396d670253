#pragma once

/// Who and where a peer is: its id plus, for direct peers, its network
/// address.

#include "broker/endpoint_id.hh"

#include <cstdint>
#include <optional>
#include <string>

namespace broker {

/// A network address of a peer.
struct network_info {
  std::string address;
  uint16_t port = 0;
  /// Reconnect interval in seconds (0 = none).
  double retry = 0;

  friend bool operator==(const network_info& x, const network_info& y) {
    return x.address == y.address && x.port == y.port;
  }
};

/// What is at the other end: a Broker endpoint speaking the native
/// protocol, or a WebSocket JSON API client (or server, when we are its
/// client). Python shows it as `EndpointInfo.type`.
enum class endpoint_type : uint8_t { native, web_socket };

/// An endpoint's id plus its network address, when known.
struct endpoint_info {
  endpoint_id node;
  std::optional<network_info> network;
  endpoint_type type = endpoint_type::native;
};

} // namespace broker
