#pragma once

/// A Zeek enum value, carried by name (e.g. "Notice::ACTION_LOG").

#include <compare>
#include <string>

namespace broker {

struct enum_value {
  std::string name;

  friend bool operator==(const enum_value&, const enum_value&) = default;
  friend auto operator<=>(const enum_value&, const enum_value&) = default;
};

} // namespace broker
