#pragma once

// UTF-8 validation shared by the JSON parser (which only accepts valid
// UTF-8 inside strings) and the encoder (which escapes the bytes of invalid
// sequences, websocket-api.md §4.4).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace broker::format::json {

/// @returns the length (1-4) of the well-formed UTF-8 sequence starting at
/// `pos`, or 0 when the bytes there do not start one. Follows RFC 3629:
/// overlong forms, UTF-16 surrogates and code points above U+10FFFF are
/// ill-formed.
/// @pre `pos < str.size()`
inline size_t utf8_sequence_length(std::string_view str, size_t pos) noexcept {
  auto byte = [&](size_t i) -> unsigned {
    return static_cast<uint8_t>(str[pos + i]);
  };
  auto avail = str.size() - pos;
  auto lead = byte(0);
  if (lead < 0x80)
    return 1;
  // Allowed range of the second byte depends on the lead byte; that is how
  // overlong forms, surrogates and values beyond U+10FFFF are excluded.
  size_t len = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    len = 2;
  } else if (lead == 0xe0) {
    len = 3;
    lo = 0xa0;
  } else if (lead >= 0xe1 && lead <= 0xec) {
    len = 3;
  } else if (lead == 0xed) {
    len = 3;
    hi = 0x9f;
  } else if (lead >= 0xee && lead <= 0xef) {
    len = 3;
  } else if (lead == 0xf0) {
    len = 4;
    lo = 0x90;
  } else if (lead >= 0xf1 && lead <= 0xf3) {
    len = 4;
  } else if (lead == 0xf4) {
    len = 4;
    hi = 0x8f;
  } else {
    return 0;
  }
  if (avail < len)
    return 0;
  if (byte(1) < lo || byte(1) > hi)
    return 0;
  for (size_t i = 2; i < len; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf)
      return 0;
  return len;
}

/// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF, not a
/// surrogate) to `out`.
template <class String>
void append_utf8(String& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

} // namespace broker::format::json
