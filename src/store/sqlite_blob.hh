#pragma once

// How the SQLite backend stores keys and values: as BLOBs in wire format
// v1's value encoding (format/bin/value_codec.hh).

#include "broker/data.hh"
#include "broker/expected.hh"
#include "format/bin/value_codec.hh"

namespace broker::detail {

/// The encoding of a value.
/// @returns ec::serialization_failed when it does not fit wire format v1.
expected<format::bin::byte_buffer> to_blob(const data& x);

/// The encoding of a key. -0.0 == 0.0 as data, but their encodings differ;
/// keys are looked up by their encoding, so every -0.0 in a key is stored
/// as +0.0.
expected<format::bin::byte_buffer> key_blob(const data& key);

} // namespace broker::detail
