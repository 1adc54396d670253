#include "broker/subnet.hh"

#include <charconv>

namespace broker {

std::optional<subnet> subnet::from_raw(address net,
                                       unsigned raw_length) noexcept {
  if (raw_length > 128)
    return std::nullopt;
  subnet result;
  net.mask(raw_length);
  result.net_ = net;
  result.len_ = static_cast<uint8_t>(raw_length);
  return result;
}

std::optional<subnet> subnet::make(address net, unsigned length) noexcept {
  if (net.is_v4()) {
    if (length > 32)
      return std::nullopt;
    return from_raw(net, length + 96);
  }
  return from_raw(net, length);
}

std::optional<subnet> subnet::parse(std::string_view text) {
  auto slash = text.rfind('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  auto addr = address::parse(text.substr(0, slash));
  if (!addr)
    return std::nullopt;
  auto len_str = text.substr(slash + 1);
  unsigned len = 0;
  auto [ptr, err] = std::from_chars(len_str.data(),
                                    len_str.data() + len_str.size(), len);
  if (len_str.empty() || err != std::errc{}
      || ptr != len_str.data() + len_str.size())
    return std::nullopt;
  return make(*addr, len);
}

unsigned subnet::length() const noexcept {
  // A v4-mapped network with a raw length below 96 is not an IPv4 subnet
  // (e.g. ::/0 happens to have a zero prefix): report it in v6 terms.
  return net_.is_v4() && len_ >= 96 ? len_ - 96u : len_;
}

bool subnet::contains(const address& addr) const noexcept {
  auto masked = addr;
  masked.mask(len_);
  return masked == net_;
}

std::string subnet::to_string() const {
  return net_.to_string() + '/' + std::to_string(length());
}

} // namespace broker
