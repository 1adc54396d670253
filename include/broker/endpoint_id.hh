#pragma once

/// The 16-byte id of an endpoint (a UUID), compared bytewise on the wire:
/// the endpoint with the smaller id originates the peering handshake.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace broker {

class endpoint_id {
public:
  using bytes_type = std::array<uint8_t, 16>;

  /// The nil id (all zeros): "no receiver" in an envelope.
  endpoint_id() noexcept : bytes_{} {}

  explicit endpoint_id(const bytes_type& bytes) noexcept : bytes_(bytes) {}

  /// @returns a new random id (an RFC 4122 version 4 UUID).
  static endpoint_id random();

  /// Parses the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
  static std::optional<endpoint_id> parse(std::string_view text);

  bool is_nil() const noexcept;

  const bytes_type& bytes() const noexcept { return bytes_; }

  /// @returns the canonical lowercase UUID text.
  std::string to_string() const;

  friend bool operator==(const endpoint_id&, const endpoint_id&) = default;
  /// Bytewise (memcmp) order, as real Broker compares ids.
  friend auto operator<=>(const endpoint_id&, const endpoint_id&) = default;

private:
  bytes_type bytes_;
};

} // namespace broker

template <>
struct std::hash<broker::endpoint_id> {
  size_t operator()(const broker::endpoint_id& x) const noexcept {
    size_t h = 0;
    for (auto b : x.bytes())
      h = h * 131 + b;
    return h;
  }
};
