#include "format/bin/envelope.hh"

#include <cstring>
#include <limits>
#include <stdexcept>

namespace broker::format::bin {

namespace {

/// The framing layer's cap on a single message (wire-protocol.md §1).
constexpr size_t max_frame_payload = (size_t{1} << 31) - 5;

void write_raw(byte_buffer& out, const void* data, size_t n) {
  if (n == 0)
    return;
  auto pos = out.size();
  out.resize(pos + n);
  std::memcpy(out.data() + pos, data, n);
}

bool read_id(reader& src, endpoint_id& id) {
  const std::byte* ptr = nullptr;
  if (!src.read_bytes(16, ptr))
    return false;
  endpoint_id::bytes_type bytes;
  std::memcpy(bytes.data(), ptr, bytes.size());
  id = endpoint_id{bytes};
  return true;
}

error invalid(std::string what) {
  return error{ec::invalid_message, std::move(what)};
}

} // namespace

void write_envelope_frame(byte_buffer& out, const endpoint_id& sender,
                          const endpoint_id& receiver, msg_type type,
                          uint16_t ttl, std::string_view topic,
                          std::span<const std::byte> payload) {
  // Preconditions: callers never build topics or messages this large; a
  // frame that lies about its own layout would be worse than failing loudly.
  if (topic.size() > std::numeric_limits<uint16_t>::max())
    throw std::length_error("envelope topic exceeds 65535 bytes");
  auto size = envelope_header_size + topic.size();
  if (payload.size() > max_frame_payload - size)
    throw std::length_error("envelope exceeds the maximum frame size");
  size += payload.size();
  out.reserve(out.size() + 4 + size);
  write_be<uint32_t>(out, static_cast<uint32_t>(size));
  write_raw(out, sender.bytes().data(), sender.bytes().size());
  write_raw(out, receiver.bytes().data(), receiver.bytes().size());
  write_u8(out, static_cast<uint8_t>(type));
  write_be<uint16_t>(out, ttl);
  write_be<uint16_t>(out, static_cast<uint16_t>(topic.size()));
  write_raw(out, topic.data(), topic.size());
  write_raw(out, payload.data(), payload.size());
}

expected<envelope_view> read_envelope(std::span<const std::byte> frame) {
  reader src{frame.data(), frame.data() + frame.size()};
  envelope_view result;
  uint8_t type = 0;
  uint16_t topic_len = 0;
  if (!read_id(src, result.sender) || !read_id(src, result.receiver)
      || !src.read_u8(type) || !src.read_be(result.ttl)
      || !src.read_be(topic_len))
    return invalid("envelope shorter than its header");
  if (type < static_cast<uint8_t>(msg_type::data)
      || type > static_cast<uint8_t>(msg_type::pong))
    return invalid("invalid envelope type " + std::to_string(type));
  result.type = static_cast<msg_type>(type);
  const std::byte* topic = nullptr;
  if (!src.read_bytes(topic_len, topic))
    return invalid("envelope topic extends beyond the frame");
  result.topic = std::string_view{reinterpret_cast<const char*>(topic),
                                  topic_len};
  result.payload = std::span<const std::byte>{src.position(),
                                              src.remaining()};
  return result;
}

std::shared_ptr<std::vector<std::byte>>
forwarded_frame(std::span<const std::byte> envelope, const endpoint_id& sender,
                uint16_t ttl) {
  // Header offsets inside the frame, behind its 4-byte length.
  constexpr size_t sender_offset = 4;
  constexpr size_t ttl_offset = 4 + 33;
  auto buf = std::make_shared<std::vector<std::byte>>(4 + envelope.size());
  auto len = to_big_endian(static_cast<uint32_t>(envelope.size()));
  std::memcpy(buf->data(), &len, 4);
  std::memcpy(buf->data() + 4, envelope.data(), envelope.size());
  std::memcpy(buf->data() + sender_offset, sender.bytes().data(), 16);
  auto ttl_be = to_big_endian(ttl);
  std::memcpy(buf->data() + ttl_offset, &ttl_be, 2);
  return buf;
}

} // namespace broker::format::bin
