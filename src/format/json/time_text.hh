#pragma once

// Timestamps and timespans as the WebSocket JSON encoding writes them
// (websocket-api.md §4.7, §4.8): ISO 8601 in UTC, and a number with the
// coarsest exact unit.

#include "broker/time.hh"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace broker::format::json {

/// Appends the decimal digits of `x`.
template <class T>
void append_int(std::string& out, T x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

/// YYYY-MM-DDTHH:MM:SS.mmm in UTC.
void append_timestamp(std::string& out, timestamp ts);

/// A number and the coarsest unit that represents `x` exactly.
void append_timespan(std::string& out, timespan x);

/// Parses the ISO 8601 subset of §4.7. On failure, sets `why`.
std::optional<timestamp> parse_timestamp(std::string_view str,
                                         std::string& why);

/// Parses `[+-]<digits>[.<digits>]<unit>` (§4.8). On failure, sets `why`.
std::optional<timespan> parse_timespan(std::string_view str, std::string& why);

} // namespace broker::format::json
