#include "broker/endpoint_id.hh"

#include <random>

namespace broker {

endpoint_id endpoint_id::random() {
  // One generator per thread, seeded from the OS.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  bytes_type bytes;
  for (size_t i = 0; i < 16; i += 8) {
    auto x = gen();
    for (size_t j = 0; j < 8; ++j)
      bytes[i + j] = static_cast<uint8_t>(x >> (8 * j));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40); // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80); // RFC 4122
  return endpoint_id{bytes};
}

std::optional<endpoint_id> endpoint_id::parse(std::string_view text) {
  if (text.size() != 36)
    return std::nullopt;
  bytes_type bytes;
  size_t n = 0;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-')
        return std::nullopt;
      ++i;
      continue;
    }
    auto hi = nibble(text[i]);
    auto lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0 || n >= 16)
      return std::nullopt;
    bytes[n++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  if (n != 16)
    return std::nullopt;
  return endpoint_id{bytes};
}

bool endpoint_id::is_nil() const noexcept {
  for (auto b : bytes_)
    if (b != 0)
      return false;
  return true;
}

std::string endpoint_id::to_string() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      result += '-';
    result += digits[bytes_[i] >> 4];
    result += digits[bytes_[i] & 0xf];
  }
  return result;
}

} // namespace broker
