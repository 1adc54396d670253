#pragma once

// JSON encoding of broker::data as the WebSocket API defines it
// (websocket-api.md §4): {"@data-type": "<tag>", "data": <payload>}.
// Pure functions, no I/O.

#include "broker/data.hh"
#include "broker/expected.hh"
#include "format/json/value.hh"

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

/// Appends `"@data-type":"<tag>","data":<payload>`, i.e. the value object
/// without its braces, so that a message can carry further members (a topic)
/// in the same object, as data messages do (§5.1).
void encode_members(const data& x, std::string& out);

/// Appends `str` as a JSON string literal, escaped as in §4.4 (bytes of
/// invalid UTF-8 become `\u00XX`).
void encode_string(std::string_view str, std::string& out);

/// Decodes one value object from JSON text.
/// @returns the value, an `ec::invalid_json` error for malformed JSON, or an
///          `ec::deserialization_failed` error for well-formed JSON that is
///          not a valid value.
expected<data> decode(std::string_view text, const decode_limits& limits = {});

/// Decodes a value object from a parsed document. Members other than
/// `@data-type` and `data` are ignored, so a whole data message (topic and
/// value in one object) decodes as is.
/// @returns the value or an `ec::deserialization_failed` error.
expected<data> decode(const value& doc, const decode_limits& limits = {});

} // namespace broker::format::json
