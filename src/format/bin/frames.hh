#pragma once

// Complete frames (4-byte big-endian length + body) as the core sends
// them: data and command envelopes, handshake messages, and the BYE ping
// payload. Pure codec: every byte the core puts on the wire is built here.

#include "broker/data.hh"
#include "broker/endpoint_id.hh"
#include "format/bin/envelope.hh"
#include "format/bin/handshake.hh"

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace broker::format::bin {

/// A complete frame, shared by every peer it goes to.
using frame_buffer = std::shared_ptr<std::vector<std::byte>>;

/// A data message: `value` encoded after the envelope header.
frame_buffer data_frame(const endpoint_id& sender, const endpoint_id& receiver,
                        uint16_t ttl, std::string_view topic,
                        const data& value);

/// A command message (store traffic) carrying an encoded store command.
frame_buffer command_frame(const endpoint_id& sender,
                           const endpoint_id& receiver, std::string_view topic,
                           std::span<const std::byte> payload);

/// Any envelope with the default TTL (routing updates, pings, pongs).
frame_buffer envelope_frame(const endpoint_id& sender,
                            const endpoint_id& receiver, msg_type type,
                            std::string_view topic,
                            std::span<const std::byte> payload);

/// A handshake message.
frame_buffer handshake_frame(const handshake_msg& msg);

/// The payload of a BYE ping: "BYE" plus a u64 counter in host byte order
/// (as real Broker writes it; golden captures). The peer echoes it in its
/// pong once it has read everything sent before.
byte_buffer bye_payload(uint64_t id);

/// The counter of a BYE pong payload, or nullopt for any other payload.
std::optional<uint64_t> read_bye(std::span<const std::byte> payload);

} // namespace broker::format::bin
