#include "format/bin/handshake.hh"

#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

namespace broker::format::bin {

namespace {

// -- encoding helpers ---------------------------------------------------------

// Sizes that do not fit a 32-bit varbyte cannot be expressed on the wire; a
// caller passing one has broken a precondition (no real message is 4 GiB).
uint32_t checked_size(size_t n) {
  if (n > std::numeric_limits<uint32_t>::max())
    throw std::length_error("wire format v1: size exceeds 32 bits");
  return static_cast<uint32_t>(n);
}

void write_raw(byte_buffer& out, const void* data, size_t n) {
  if (n == 0)
    return;
  auto pos = out.size();
  out.resize(pos + n);
  std::memcpy(out.data() + pos, data, n);
}

void write_str(byte_buffer& out, std::string_view str) {
  write_varbyte(out, checked_size(str.size()));
  write_raw(out, str.data(), str.size());
}

void write_id(byte_buffer& out, const endpoint_id& id) {
  write_raw(out, id.bytes().data(), id.bytes().size());
}

void write_tag(byte_buffer& out, msg_type tag) {
  write_u8(out, static_cast<uint8_t>(tag));
}

struct encoder {
  byte_buffer& out;

  void operator()(const hello_msg& x) {
    write_tag(out, msg_type::hello);
    write_be<uint32_t>(out, magic_number);
    write_id(out, x.sender);
    write_u8(out, x.min_version);
    write_u8(out, x.max_version);
  }

  void operator()(const probe_msg&) {
    write_tag(out, msg_type::probe);
    write_be<uint32_t>(out, magic_number);
  }

  void operator()(const version_select_msg& x) {
    write_tag(out, msg_type::version_select);
    write_be<uint32_t>(out, magic_number);
    write_id(out, x.sender);
    write_u8(out, x.version);
  }

  void operator()(const drop_conn_msg& x) {
    write_tag(out, msg_type::drop_conn);
    write_be<uint32_t>(out, magic_number);
    write_id(out, x.sender);
    write_u8(out, static_cast<uint8_t>(x.code));
    write_str(out, x.description);
  }

  void operator()(const originator_syn_msg& x) {
    write_tag(out, msg_type::originator_syn);
    encode_filter(x.filter, out);
  }

  void operator()(const responder_syn_ack_msg& x) {
    write_tag(out, msg_type::responder_syn_ack);
    encode_filter(x.filter, out);
  }

  void operator()(const originator_ack_msg&) {
    write_tag(out, msg_type::originator_ack);
  }
};

// -- decoding helpers ---------------------------------------------------------

error invalid(std::string what) {
  return error{ec::invalid_message, std::move(what)};
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

/// Reads a varbyte length plus that many bytes. Checks the length against
/// the remaining input before allocating anything.
bool read_str(reader& src, std::string& str) {
  uint32_t len = 0;
  if (!src.read_varbyte(len) || len > src.remaining())
    return false;
  const std::byte* ptr = nullptr;
  if (!src.read_bytes(len, ptr))
    return false;
  str.assign(reinterpret_cast<const char*>(ptr), len);
  return true;
}

/// Reads a filter from the current position of `src`.
bool read_filter(reader& src, filter_type& filter) {
  uint32_t count = 0;
  if (!src.read_varbyte(count))
    return false;
  // Each topic takes at least one byte (its length), so a count beyond the
  // remaining input is a lie: reject it before reserving memory.
  if (count > src.remaining())
    return false;
  filter.clear();
  filter.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string topic;
    if (!read_str(src, topic))
      return false;
    filter.push_back(std::move(topic));
  }
  return true;
}

/// Reads and checks the magic number. Sets `err` on failure.
bool read_magic(reader& src, std::optional<error>& err) {
  uint32_t magic = 0;
  if (!src.read_be(magic)) {
    err = invalid("truncated handshake message (magic number)");
    return false;
  }
  if (magic != magic_number) {
    err = error{ec::wrong_magic_number, "wrong magic number"};
    return false;
  }
  return true;
}

template <class Msg>
expected<handshake_msg> finish(reader& src, Msg msg) {
  if (!src.at_end())
    return invalid("trailing bytes after handshake message");
  return handshake_msg{std::move(msg)};
}

} // namespace

void encode(const handshake_msg& msg, byte_buffer& out) {
  std::visit(encoder{out}, msg);
}

void encode_filter(const filter_type& filter, byte_buffer& out) {
  write_varbyte(out, checked_size(filter.size()));
  for (auto& topic : filter)
    write_str(out, topic);
}

expected<filter_type> decode_filter(std::span<const std::byte> bytes) {
  reader src{bytes.data(), bytes.data() + bytes.size()};
  filter_type result;
  if (!read_filter(src, result))
    return invalid("malformed filter");
  if (!src.at_end())
    return invalid("trailing bytes after filter");
  return result;
}

expected<handshake_msg> decode_handshake(std::span<const std::byte> payload) {
  reader src{payload.data(), payload.data() + payload.size()};
  uint8_t tag = 0;
  if (!src.read_u8(tag))
    return invalid("empty handshake message");
  std::optional<error> err;
  switch (static_cast<msg_type>(tag)) {
    case msg_type::hello: {
      hello_msg msg;
      if (!read_magic(src, err))
        return std::move(*err);
      if (!read_id(src, msg.sender) || !src.read_u8(msg.min_version)
          || !src.read_u8(msg.max_version))
        return invalid("truncated hello");
      return finish(src, std::move(msg));
    }
    case msg_type::probe: {
      if (!read_magic(src, err))
        return std::move(*err);
      return finish(src, probe_msg{});
    }
    case msg_type::version_select: {
      version_select_msg msg;
      if (!read_magic(src, err))
        return std::move(*err);
      if (!read_id(src, msg.sender) || !src.read_u8(msg.version))
        return invalid("truncated version_select");
      return finish(src, std::move(msg));
    }
    case msg_type::drop_conn: {
      drop_conn_msg msg;
      if (!read_magic(src, err))
        return std::move(*err);
      uint8_t code = 0;
      if (!read_id(src, msg.sender) || !src.read_u8(code))
        return invalid("truncated drop_conn");
      // Any code is accepted: a peer may know codes we do not.
      msg.code = static_cast<ec>(code);
      if (!read_str(src, msg.description))
        return invalid("malformed drop_conn description");
      return finish(src, std::move(msg));
    }
    case msg_type::originator_syn: {
      originator_syn_msg msg;
      if (!read_filter(src, msg.filter))
        return invalid("malformed originator_syn filter");
      return finish(src, std::move(msg));
    }
    case msg_type::responder_syn_ack: {
      responder_syn_ack_msg msg;
      if (!read_filter(src, msg.filter))
        return invalid("malformed responder_syn_ack filter");
      return finish(src, std::move(msg));
    }
    case msg_type::originator_ack:
      return finish(src, originator_ack_msg{});
    default:
      return invalid("unexpected message tag " + std::to_string(tag)
                     + " in handshake");
  }
}

} // namespace broker::format::bin
