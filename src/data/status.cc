#include "broker/status.hh"

namespace broker {

std::string_view to_string(sc code) noexcept {
  switch (code) {
    case sc::unspecified:
      return "unspecified";
    case sc::peer_added:
      return "peer_added";
    case sc::peer_removed:
      return "peer_removed";
    case sc::peer_lost:
      return "peer_lost";
    case sc::endpoint_discovered:
      return "endpoint_discovered";
    case sc::endpoint_unreachable:
      return "endpoint_unreachable";
  }
  return "<unknown>";
}

} // namespace broker
