#include "format/bin/frames.hh"

#include "format/bin/value_codec.hh"

#include <cstring>

namespace broker::format::bin {

namespace {

constexpr std::string_view bye_prefix = "BYE";

// Writes the length of a frame built with a placeholder length.
void patch_length(byte_buffer& buf) {
  auto be = to_big_endian(static_cast<uint32_t>(buf.size() - 4));
  std::memcpy(buf.data(), &be, 4);
}

} // namespace

frame_buffer data_frame(const endpoint_id& sender, const endpoint_id& receiver,
                        uint16_t ttl, std::string_view topic,
                        const data& value) {
  auto buf = std::make_shared<byte_buffer>();
  buf->reserve(64 + topic.size());
  write_envelope_frame(*buf, sender, receiver, msg_type::data, ttl, topic, {});
  encode(value, *buf);
  patch_length(*buf); // now that the payload is in place
  return buf;
}

frame_buffer command_frame(const endpoint_id& sender,
                           const endpoint_id& receiver, std::string_view topic,
                           std::span<const std::byte> payload) {
  auto buf = std::make_shared<byte_buffer>();
  write_envelope_frame(*buf, sender, receiver, msg_type::command, default_ttl,
                       topic, payload);
  return buf;
}

frame_buffer envelope_frame(const endpoint_id& sender,
                            const endpoint_id& receiver, msg_type type,
                            std::string_view topic,
                            std::span<const std::byte> payload) {
  auto buf = std::make_shared<byte_buffer>();
  write_envelope_frame(*buf, sender, receiver, type, default_ttl, topic,
                       payload);
  return buf;
}

frame_buffer handshake_frame(const handshake_msg& msg) {
  auto buf = std::make_shared<byte_buffer>();
  buf->resize(4);
  encode(msg, *buf);
  patch_length(*buf);
  return buf;
}

byte_buffer bye_payload(uint64_t id) {
  byte_buffer payload(bye_prefix.size() + sizeof(id));
  std::memcpy(payload.data(), bye_prefix.data(), bye_prefix.size());
  std::memcpy(payload.data() + bye_prefix.size(), &id, sizeof(id));
  return payload;
}

std::optional<uint64_t> read_bye(std::span<const std::byte> payload) {
  uint64_t id;
  if (payload.size() != bye_prefix.size() + sizeof(id)
      || std::memcmp(payload.data(), bye_prefix.data(), bye_prefix.size()) != 0)
    return std::nullopt;
  std::memcpy(&id, payload.data() + bye_prefix.size(), sizeof(id));
  return id;
}

} // namespace broker::format::bin
