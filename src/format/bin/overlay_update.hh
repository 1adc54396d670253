#pragma once

// Overlay updates: how our endpoints tell each other the topology and who
// wants which topics, so that messages cross endpoints that neither
// subscribe nor forward() and reach every subscriber exactly once, also in
// cyclic topologies (see src/core/overlay.hh).
//
// Wire v1 has no message for this, so an update travels as the payload of
// a ping envelope (type 4): real Broker answers every ping with a pong that
// echoes the payload and does nothing else, so a real Broker neighbour is
// unaffected (we ignore its pong). Payload layout:
//
//   "BOV" u8 version(1)
//   origin id (16 bytes)  u64 seq (big-endian)  u8 flags (bit 0: forwards)
//   varbyte n, then n neighbour ids (16 bytes each)
//   filter (encode_filter: varbyte count, varbyte length + bytes per topic)

#include "broker/endpoint_id.hh"
#include "broker/expected.hh"
#include "format/bin/handshake.hh"
#include "format/bin/primitives.hh"

#include <span>
#include <vector>

namespace broker::format::bin {

/// One endpoint's link-state advertisement.
struct overlay_update {
  endpoint_id origin;
  /// Grows with every change of the origin's state; newer replaces older.
  uint64_t seq = 0;
  /// Whether the origin relays messages between its peers.
  bool forwards = true;
  /// The origin's direct peers that are our endpoints too.
  std::vector<endpoint_id> neighbours;
  /// Topic prefixes the origin wants: its subscriptions, store topics,
  /// forward() topics and the filters of its real Broker peers.
  filter_type wants;

  friend bool operator==(const overlay_update&,
                         const overlay_update&) = default;
};

/// Appends the ping payload carrying `x`.
void encode(const overlay_update& x, byte_buffer& out);

/// Whether a ping payload is an overlay update (by its magic).
bool is_overlay_update(std::span<const std::byte> ping_payload) noexcept;

/// Decodes a ping payload. Errors (ec::invalid_message): wrong magic or
/// version, truncation, trailing bytes, more neighbours than bytes.
expected<overlay_update> decode_overlay_update(std::span<const std::byte> bytes);

} // namespace broker::format::bin
