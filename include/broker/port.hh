#pragma once

/// A transport-layer port number with its protocol.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace broker {

class port {
public:
  /// Protocol values as on the wire.
  enum class protocol : uint8_t { unknown = 0, tcp = 1, udp = 2, icmp = 3 };

  port() noexcept = default;

  port(uint16_t number, protocol proto) noexcept
    : num_(number), proto_(proto) {}

  uint16_t number() const noexcept { return num_; }

  protocol type() const noexcept { return proto_; }

  /// `443/tcp`, `53/udp`, `8/icmp`, `0/?`.
  std::string to_string() const;

  /// Parses `<n>/<proto>`; a bare number means TCP; an unknown protocol name
  /// maps to unknown. Numbers above 65535 are rejected.
  static std::optional<port> parse(std::string_view text);

  friend bool operator==(const port&, const port&) = default;
  friend auto operator<=>(const port&, const port&) = default;

private:
  uint16_t num_ = 0;
  protocol proto_ = protocol::unknown;
};

} // namespace broker
