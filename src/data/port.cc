#include "broker/port.hh"

#include <charconv>

namespace broker {

std::string port::to_string() const {
  auto result = std::to_string(num_);
  switch (proto_) {
    case protocol::tcp:
      return result + "/tcp";
    case protocol::udp:
      return result + "/udp";
    case protocol::icmp:
      return result + "/icmp";
    default:
      return result + "/?";
  }
}

std::optional<port> port::parse(std::string_view text) {
  auto slash = text.find('/');
  auto num_str = text.substr(0, slash);
  uint32_t num = 0;
  auto [ptr, err] = std::from_chars(num_str.data(),
                                    num_str.data() + num_str.size(), num);
  if (num_str.empty() || err != std::errc{}
      || ptr != num_str.data() + num_str.size() || num > 65535)
    return std::nullopt;
  auto n = static_cast<uint16_t>(num);
  if (slash == std::string_view::npos)
    return port{n, protocol::tcp};
  auto proto = text.substr(slash + 1);
  if (proto == "tcp")
    return port{n, protocol::tcp};
  if (proto == "udp")
    return port{n, protocol::udp};
  if (proto == "icmp")
    return port{n, protocol::icmp};
  return port{n, protocol::unknown};
}

} // namespace broker
