#pragma once

// Data-store commands of Broker's wire format v1 (wire-protocol.md §5, §6):
// the payload of a `command` envelope (type 2). Layout:
//
//   seq u64, sender entity, receiver entity, variant index u8, fields
//
// where an entity is a 16-byte endpoint id plus a u64 object id (all
// integers big-endian). Values use the encoding of value_codec.hh. Pure
// codec, no I/O.

#include "broker/data.hh"
#include "broker/endpoint_id.hh"
#include "broker/expected.hh"
#include "broker/time.hh"
#include "format/bin/primitives.hh"
#include "format/bin/value_codec.hh"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace broker::format::bin {

/// An actor on an endpoint: the endpoint id plus an opaque object id (a CAF
/// actor id in real Broker). The nil entity is all zeros.
struct entity {
  endpoint_id endpoint;
  uint64_t object = 0;

  bool is_nil() const noexcept { return endpoint.is_nil() && object == 0; }

  friend bool operator==(const entity&, const entity&) = default;
};

/// Relative expiry in nanoseconds (none = never expires).
using expiry_type = std::optional<timespan>;

// -- actions (variant indices 0-7) --------------------------------------------

struct put_command {
  data key;
  data value;
  expiry_type expiry;
  entity publisher;
  friend bool operator==(const put_command&, const put_command&) = default;
};

struct put_unique_command {
  data key;
  data value;
  expiry_type expiry;
  entity who;
  uint64_t req_id = 0;
  entity publisher;
  friend bool operator==(const put_unique_command&,
                         const put_unique_command&) = default;
};

struct put_unique_result_command {
  bool inserted = false;
  entity who;
  uint64_t req_id = 0;
  entity publisher;
  friend bool operator==(const put_unique_result_command&,
                         const put_unique_result_command&) = default;
};

struct erase_command {
  data key;
  entity publisher;
  friend bool operator==(const erase_command&, const erase_command&) = default;
};

struct expire_command {
  data key;
  entity publisher;
  friend bool operator==(const expire_command&,
                         const expire_command&) = default;
};

struct add_command {
  data key;
  data value;
  /// Type of the value created when `key` does not exist (one byte, 0-14).
  data_type init_type = data_type::none;
  expiry_type expiry;
  entity publisher;
  friend bool operator==(const add_command&, const add_command&) = default;
};

struct subtract_command {
  data key;
  data value;
  expiry_type expiry;
  entity publisher;
  friend bool operator==(const subtract_command&,
                         const subtract_command&) = default;
};

struct clear_command {
  entity publisher;
  friend bool operator==(const clear_command&, const clear_command&) = default;
};

// -- channel control (variant indices 8-13) -----------------------------------

struct attach_writer_command {
  uint64_t offset = 0;
  uint16_t heartbeat_interval = 0;
  friend bool operator==(const attach_writer_command&,
                         const attach_writer_command&) = default;
};

struct keepalive_command {
  uint64_t seq = 0;
  friend bool operator==(const keepalive_command&,
                         const keepalive_command&) = default;
};

struct cumulative_ack_command {
  uint64_t seq = 0;
  friend bool operator==(const cumulative_ack_command&,
                         const cumulative_ack_command&) = default;
};

struct nack_command {
  std::vector<uint64_t> seqs;
  friend bool operator==(const nack_command&, const nack_command&) = default;
};

/// A store snapshot as sent in ack_clone. Real Broker serializes an
/// unordered map, so the entries keep their wire order (needed to re-encode
/// byte for byte); keys are unique (the decoder rejects duplicates).
using snapshot_entries = std::vector<std::pair<data, data>>;

struct ack_clone_command {
  uint64_t offset = 0;
  uint16_t heartbeat_interval = 0;
  snapshot_entries state;
  friend bool operator==(const ack_clone_command&,
                         const ack_clone_command&) = default;
};

struct retransmit_failed_command {
  uint64_t seq = 0;
  friend bool operator==(const retransmit_failed_command&,
                         const retransmit_failed_command&) = default;
};

/// The command body; the alternative index is the wire variant index.
using command_variant =
  std::variant<put_command, put_unique_command, put_unique_result_command,
               erase_command, expire_command, add_command, subtract_command,
               clear_command, attach_writer_command, keepalive_command,
               cumulative_ack_command, nack_command, ack_clone_command,
               retransmit_failed_command>;

/// Number of command kinds (valid variant indices are 0 to 13).
inline constexpr size_t store_command_kinds =
  std::variant_size_v<command_variant>;

/// A complete store command: the payload of a command envelope.
struct store_command {
  uint64_t seq = 0;
  entity sender;
  entity receiver;
  command_variant content;
  friend bool operator==(const store_command&, const store_command&) = default;
};

/// @returns the snake_case name of a command kind ("put", "ack_clone", ...)
/// or "<invalid>" for an index outside 0-13.
std::string_view command_name(size_t variant_index) noexcept;

/// @returns the snake_case name of the command held by `x`.
inline std::string_view command_name(const command_variant& x) noexcept {
  return command_name(x.index());
}

/// Appends the encoding of `x` to `out`.
/// @throws std::length_error if a size (string, container, nack list,
/// snapshot) does not fit the 32-bit varbyte.
void encode(const store_command& x, byte_buffer& out);

/// Decodes one command spanning all of `bytes` (untrusted input). Every
/// failure - truncation, a variant index above 13, an optional or bool tag
/// other than 0/1, an init_type above 14, a count larger than the remaining
/// input, a malformed or too deeply nested value, a duplicate snapshot key,
/// trailing bytes - is an `ec::invalid_message` error.
expected<store_command> decode_store_command(std::span<const std::byte> bytes,
                                             const decode_limits& limits = {});

/// Renders an entity as `<uuid>#<object>`, or `nil#<object>` for a nil
/// endpoint.
std::string to_string(const entity& x);

/// Renders a command as in the golden captures' `decoded` text, e.g.
/// `seq=2 sender=<uuid>#9 receiver=nil#0 put(key=string "k", value=count 1,
/// expiry=none, publisher=<uuid>#9)`. Values carry their type name
/// (`string "x"`, `count 1`, `set {integer 1}`, `vector [..]`, `nil`, `T`).
std::string to_string(const store_command& x);

/// Renders only the command body, e.g. `keepalive(seq=1)`.
std::string to_string(const command_variant& x);

} // namespace broker::format::bin
