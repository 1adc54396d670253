#pragma once

/// An IPv4 or IPv6 address. IPv4 is stored v4-mapped (`::ffff:a.b.c.d`), as
/// real Broker does, and reported as IPv4 again.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace broker {

class address {
public:
  using bytes_type = std::array<uint8_t, 16>;

  /// The unspecified IPv6 address `::`.
  address() noexcept : bytes_{} {}

  explicit address(const bytes_type& bytes) noexcept : bytes_(bytes) {}

  /// @returns an IPv4 address from its 4 bytes in network order.
  static address from_v4(const uint8_t* bytes) noexcept;

  /// @returns an IPv6 address from its 16 bytes in network order.
  static address from_v6(const uint8_t* bytes) noexcept;

  /// Parses dotted-quad IPv4 or any RFC 4291 IPv6 text form.
  static std::optional<address> parse(std::string_view text);

  /// @returns whether this is a v4-mapped address.
  bool is_v4() const noexcept;

  const bytes_type& bytes() const noexcept { return bytes_; }

  /// Clears all bits after the first `top_bits` (counted in v6 form).
  void mask(unsigned top_bits) noexcept;

  /// Dotted quad for IPv4, RFC 5952 text for IPv6.
  std::string to_string() const;

  friend bool operator==(const address&, const address&) = default;
  friend auto operator<=>(const address&, const address&) = default;

private:
  bytes_type bytes_;
};

} // namespace broker
