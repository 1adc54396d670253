#pragma once

// Encoding and decoding of broker::data in wire format v1 (wire-protocol.md
// §4): one type tag byte, then the body. Pure functions, no I/O.

#include "broker/data.hh"
#include "broker/expected.hh"
#include "format/bin/primitives.hh"

#include <span>

namespace broker::format::bin {

/// Limits that keep decoding untrusted input bounded.
struct decode_limits {
  /// Maximum nesting of containers.
  int max_depth = 100;
};

/// Appends the encoding of `x` to `out`.
/// @returns false (leaving `out` partly written) only when a string or
/// container size does not fit the 32-bit varbyte.
bool encode(const data& x, byte_buffer& out);

/// Reads one value at the reader's position.
/// @returns false and sets `err` on malformed or truncated input.
bool decode_value(reader& in, data& out, error& err,
                  const decode_limits& limits = {});

/// Decodes exactly one value spanning all of `bytes`.
expected<data> decode(std::span<const std::byte> bytes,
                      const decode_limits& limits = {});

} // namespace broker::format::bin
