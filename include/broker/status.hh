#pragma once

/// Status and error events that status subscribers receive.

#include "broker/endpoint_info.hh"
#include "broker/error.hh"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace broker {

/// Status codes, with real Broker's numeric values.
enum class sc : uint8_t {
  unspecified = 0,
  peer_added = 1,
  peer_removed = 2,
  peer_lost = 3,
  endpoint_discovered = 4,
  endpoint_unreachable = 5,
};

std::string_view to_string(sc code) noexcept;

/// A change in the network (peerings coming and going).
struct status {
  sc code = sc::unspecified;
  endpoint_info context;
  std::string message;
};

/// An error with the peer or endpoint it concerns.
struct error_event {
  ec code = ec::none;
  endpoint_info context;
  std::string message;
};

/// What a status subscriber receives.
using status_event = std::variant<status, error_event>;

} // namespace broker
