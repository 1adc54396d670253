#pragma once

// JSON encoding of broker::data as the WebSocket API defines it
// (websocket-api.md §4): {"@data-type": "<tag>", "data": <payload>}.
// Pure functions, no I/O.

#include "broker/data.hh"
#include "broker/expected.hh"

#include <string>
#include <string_view>

namespace broker::format::json {

/// Limits that keep decoding untrusted input bounded.
struct decode_limits {
  /// Maximum nesting of JSON arrays/objects.
  int max_depth = 100;
};

/// Appends the compact JSON encoding of `x` to `out`.
void encode(const data& x, std::string& out);

/// @returns the compact JSON encoding of `x`.
std::string encode(const data& x);

/// Decodes one value object from JSON text.
expected<data> decode(std::string_view text, const decode_limits& limits = {});

} // namespace broker::format::json
