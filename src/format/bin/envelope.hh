#pragma once

// Phase-3 envelopes of Broker's wire format v1 (wire-protocol.md §3): a
// 37-byte header (sender = last hop, receiver, type, TTL, topic length),
// the topic, then a type-specific payload. Pure codec, no I/O.

#include "broker/endpoint_id.hh"
#include "broker/expected.hh"
#include "format/bin/handshake.hh"
#include "format/bin/primitives.hh"

#include <memory>
#include <span>
#include <string_view>

namespace broker::format::bin {

/// Size of the fixed part of an envelope.
inline constexpr size_t envelope_header_size = 37;

/// Real Broker's default TTL.
inline constexpr uint16_t default_ttl = 16;

/// Topic of routing updates, pings and pongs.
inline constexpr std::string_view internal_topic = "<$>";

/// A parsed envelope; topic and payload point into the parsed buffer.
struct envelope_view {
  endpoint_id sender;
  endpoint_id receiver; // nil = publish by topic
  msg_type type = msg_type::data;
  uint16_t ttl = default_ttl;
  std::string_view topic;
  std::span<const std::byte> payload;
};

/// Appends a complete frame: the 4-byte big-endian length, the envelope
/// header, the topic, then `payload`.
void write_envelope_frame(byte_buffer& out, const endpoint_id& sender,
                          const endpoint_id& receiver, msg_type type,
                          uint16_t ttl, std::string_view topic,
                          std::span<const std::byte> payload);

/// Parses a frame payload (without the 4-byte length) as an envelope.
/// Errors (ec::invalid_message): shorter than the header, a type outside
/// 1-5, a topic length beyond the frame.
expected<envelope_view> read_envelope(std::span<const std::byte> frame);

/// A received envelope (a frame payload, without the length) as a complete
/// frame to forward: copied once, with `sender` and `ttl` replaced.
std::shared_ptr<std::vector<std::byte>>
forwarded_frame(std::span<const std::byte> envelope, const endpoint_id& sender,
                uint16_t ttl);

} // namespace broker::format::bin
