#include "broker/address.hh"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace broker {

namespace {

constexpr uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

} // namespace

address address::from_v4(const uint8_t* bytes) noexcept {
  address result;
  std::memcpy(result.bytes_.data(), v4_prefix, 12);
  std::memcpy(result.bytes_.data() + 12, bytes, 4);
  return result;
}

address address::from_v6(const uint8_t* bytes) noexcept {
  address result;
  std::memcpy(result.bytes_.data(), bytes, 16);
  return result;
}

std::optional<address> address::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; addresses are short.
  if (text.size() >= INET6_ADDRSTRLEN + 8)
    return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 8];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t bytes[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, bytes) == 1)
      return from_v4(bytes);
    return std::nullopt;
  }
  if (inet_pton(AF_INET6, buf, bytes) == 1)
    return from_v6(bytes);
  return std::nullopt;
}

bool address::is_v4() const noexcept {
  return std::memcmp(bytes_.data(), v4_prefix, 12) == 0;
}

void address::mask(unsigned top_bits) noexcept {
  if (top_bits >= 128)
    return;
  auto full = top_bits / 8;
  auto rest = top_bits % 8;
  if (rest != 0) {
    bytes_[full] &= static_cast<uint8_t>(0xff << (8 - rest));
    ++full;
  }
  std::fill(bytes_.begin() + full, bytes_.end(), 0);
}

std::string address::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4())
    inet_ntop(AF_INET, bytes_.data() + 12, buf, sizeof(buf));
  else
    inet_ntop(AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

} // namespace broker
