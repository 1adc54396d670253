#pragma once

/// A subnet: a masked network address plus a prefix length. The length is
/// kept in v6 form (an IPv4 /8 is stored as 104), as on the wire.

#include "broker/address.hh"

#include <optional>
#include <string>
#include <string_view>

namespace broker {

class subnet {
public:
  subnet() noexcept = default;

  /// Builds a subnet, masking host bits. `length` is relative to the address
  /// family (0-32 for IPv4, 0-128 for IPv6).
  /// @returns nullopt when `length` is out of range for the family.
  static std::optional<subnet> make(address net, unsigned length) noexcept;

  /// Builds a subnet from the wire form (length in v6 form, 0-128).
  /// @returns nullopt when `raw_length` > 128.
  static std::optional<subnet> from_raw(address net,
                                        unsigned raw_length) noexcept;

  /// Parses `<address>/<length>`.
  static std::optional<subnet> parse(std::string_view text);

  const address& network() const noexcept { return net_; }

  /// @returns the length relative to the family (e.g. 8 for 10.0.0.0/8).
  unsigned length() const noexcept;

  /// @returns the length in v6 form, as sent on the wire.
  unsigned raw_length() const noexcept { return len_; }

  /// @returns whether `addr` lies in this subnet.
  bool contains(const address& addr) const noexcept;

  std::string to_string() const;

  friend bool operator==(const subnet&, const subnet&) = default;
  friend auto operator<=>(const subnet&, const subnet&) = default;

private:
  address net_;
  uint8_t len_ = 0;
};

} // namespace broker
