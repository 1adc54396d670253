#pragma once

/// What endpoint::peers() reports about each peering.

#include "broker/endpoint_info.hh"

#include <cstdint>

namespace broker {

/// Peering states, with real Broker's values.
enum class peer_status : uint8_t {
  initialized = 0,
  connecting = 1,
  connected = 2,
  peered = 3,
  disconnected = 4,
  reconnecting = 5,
};

/// Peering flags (bit mask), with real Broker's values.
enum peer_flags : uint8_t {
  peer_flag_invalid = 0,
  peer_flag_local = 1,
  peer_flag_remote = 2,
  peer_flag_outbound = 4,
  peer_flag_inbound = 8,
};

struct peer_info {
  endpoint_info peer;
  uint8_t flags = 0;
  peer_status status = peer_status::initialized;
};

} // namespace broker
