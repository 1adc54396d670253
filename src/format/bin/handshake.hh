#pragma once

// Handshake messages of Broker's wire format v1 (wire-protocol.md §2): the
// payload of a frame in phases 1 and 2 is a 1-byte tag plus fields. Pure
// codec, no I/O, no length prefix (the session frames messages).

#include "broker/endpoint_id.hh"
#include "broker/error.hh"
#include "broker/expected.hh"
#include "format/bin/primitives.hh"

#include <span>
#include <string>
#include <variant>
#include <vector>

namespace broker::format::bin {

/// Message tags, shared between handshake (6-12) and envelope types (1-5).
enum class msg_type : uint8_t {
  data = 1,
  command = 2,
  routing_update = 3,
  ping = 4,
  pong = 5,
  hello = 6,
  probe = 7,
  version_select = 8,
  drop_conn = 9,
  originator_syn = 10,
  responder_syn_ack = 11,
  originator_ack = 12,
};

/// "ZEEK" in ASCII.
inline constexpr uint32_t magic_number = 0x5A45454B;

/// The only protocol version.
inline constexpr uint8_t protocol_version = 1;

/// A subscription filter: sorted topics without duplicates.
using filter_type = std::vector<std::string>;

struct hello_msg {
  endpoint_id sender;
  uint8_t min_version = protocol_version;
  uint8_t max_version = protocol_version;
  friend bool operator==(const hello_msg&, const hello_msg&) = default;
};

struct probe_msg {
  friend bool operator==(const probe_msg&, const probe_msg&) = default;
};

struct version_select_msg {
  endpoint_id sender;
  uint8_t version = protocol_version;
  friend bool operator==(const version_select_msg&,
                         const version_select_msg&) = default;
};

struct drop_conn_msg {
  endpoint_id sender;
  ec code = ec::none;
  std::string description;
  friend bool operator==(const drop_conn_msg&, const drop_conn_msg&) = default;
};

struct originator_syn_msg {
  filter_type filter;
  friend bool operator==(const originator_syn_msg&,
                         const originator_syn_msg&) = default;
};

struct responder_syn_ack_msg {
  filter_type filter;
  friend bool operator==(const responder_syn_ack_msg&,
                         const responder_syn_ack_msg&) = default;
};

struct originator_ack_msg {
  friend bool operator==(const originator_ack_msg&,
                         const originator_ack_msg&) = default;
};

using handshake_msg =
  std::variant<hello_msg, probe_msg, version_select_msg, drop_conn_msg,
               originator_syn_msg, responder_syn_ack_msg, originator_ack_msg>;

/// Appends the payload (tag + fields, no length prefix) of `msg` to `out`.
void encode(const handshake_msg& msg, byte_buffer& out);

/// Appends a filter: varbyte count, then varbyte length + bytes per topic.
/// Also the payload of a routing update.
void encode_filter(const filter_type& filter, byte_buffer& out);

/// Decodes a filter spanning all of `bytes`.
expected<filter_type> decode_filter(std::span<const std::byte> bytes);

/// Decodes a handshake frame payload. Errors: ec::wrong_magic_number for a
/// bad magic, ec::invalid_message for an unknown tag (including envelope
/// tags 1-5), truncation, trailing bytes or a malformed field.
expected<handshake_msg> decode_handshake(std::span<const std::byte> payload);

} // namespace broker::format::bin
