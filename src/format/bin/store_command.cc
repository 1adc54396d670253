#include "format/bin/store_command.hh"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <string_view>

namespace broker::format::bin {

namespace {

constexpr std::array<std::string_view, store_command_kinds> kind_names = {
  "put",           "put_unique",        "put_unique_result",
  "erase",         "expire",            "add",
  "subtract",      "clear",             "attach_writer",
  "keepalive",     "cumulative_ack",    "nack",
  "ack_clone",     "retransmit_failed",
};

// -- encoding -----------------------------------------------------------------

uint32_t checked_size(size_t n) {
  if (n > std::numeric_limits<uint32_t>::max())
    throw std::length_error("wire format v1: size exceeds 32 bits");
  return static_cast<uint32_t>(n);
}

void write_entity(byte_buffer& out, const entity& x) {
  auto& bytes = x.endpoint.bytes();
  auto pos = out.size();
  out.resize(pos + bytes.size());
  std::memcpy(out.data() + pos, bytes.data(), bytes.size());
  write_be<uint64_t>(out, x.object);
}

void write_value(byte_buffer& out, const data& x) {
  if (!encode(x, out))
    throw std::length_error("wire format v1: size exceeds 32 bits");
}

void write_expiry(byte_buffer& out, const expiry_type& x) {
  if (!x) {
    write_u8(out, 0);
    return;
  }
  write_u8(out, 1);
  write_be<uint64_t>(out, static_cast<uint64_t>(x->count()));
}

struct encoder {
  byte_buffer& out;

  void operator()(const put_command& x) {
    write_value(out, x.key);
    write_value(out, x.value);
    write_expiry(out, x.expiry);
    write_entity(out, x.publisher);
  }

  void operator()(const put_unique_command& x) {
    write_value(out, x.key);
    write_value(out, x.value);
    write_expiry(out, x.expiry);
    write_entity(out, x.who);
    write_be<uint64_t>(out, x.req_id);
    write_entity(out, x.publisher);
  }

  void operator()(const put_unique_result_command& x) {
    write_u8(out, x.inserted ? 1 : 0);
    write_entity(out, x.who);
    write_be<uint64_t>(out, x.req_id);
    write_entity(out, x.publisher);
  }

  void operator()(const erase_command& x) {
    write_value(out, x.key);
    write_entity(out, x.publisher);
  }

  void operator()(const expire_command& x) {
    write_value(out, x.key);
    write_entity(out, x.publisher);
  }

  void operator()(const add_command& x) {
    write_value(out, x.key);
    write_value(out, x.value);
    write_u8(out, static_cast<uint8_t>(x.init_type));
    write_expiry(out, x.expiry);
    write_entity(out, x.publisher);
  }

  void operator()(const subtract_command& x) {
    write_value(out, x.key);
    write_value(out, x.value);
    write_expiry(out, x.expiry);
    write_entity(out, x.publisher);
  }

  void operator()(const clear_command& x) {
    write_entity(out, x.publisher);
  }

  void operator()(const attach_writer_command& x) {
    write_be<uint64_t>(out, x.offset);
    write_be<uint16_t>(out, x.heartbeat_interval);
  }

  void operator()(const keepalive_command& x) {
    write_be<uint64_t>(out, x.seq);
  }

  void operator()(const cumulative_ack_command& x) {
    write_be<uint64_t>(out, x.seq);
  }

  void operator()(const nack_command& x) {
    write_varbyte(out, checked_size(x.seqs.size()));
    for (auto seq : x.seqs)
      write_be<uint64_t>(out, seq);
  }

  void operator()(const ack_clone_command& x) {
    write_be<uint64_t>(out, x.offset);
    write_be<uint16_t>(out, x.heartbeat_interval);
    write_varbyte(out, checked_size(x.state.size()));
    for (auto& [key, value] : x.state) {
      write_value(out, key);
      write_value(out, value);
    }
  }

  void operator()(const retransmit_failed_command& x) {
    write_be<uint64_t>(out, x.seq);
  }
};

// -- decoding -----------------------------------------------------------------

/// Reads fields from untrusted input; the first failure records an error
/// and makes every later read fail too.
class decoder {
public:
  decoder(std::span<const std::byte> bytes, const decode_limits& limits)
    : in_(bytes.data(), bytes.data() + bytes.size()), limits_(limits) {}

  const std::optional<error>& err() const noexcept { return err_; }

  bool at_end() const noexcept { return in_.at_end(); }

  size_t remaining() const noexcept { return in_.remaining(); }

  bool fail(std::string what) {
    if (!err_)
      err_ = error{ec::invalid_message, "store command: " + std::move(what)};
    return false;
  }

  bool u8(uint8_t& x, const char* what) {
    return ok() && (in_.read_u8(x) || fail(truncated(what)));
  }

  bool u16(uint16_t& x, const char* what) {
    return ok() && (in_.read_be(x) || fail(truncated(what)));
  }

  bool u64(uint64_t& x, const char* what) {
    return ok() && (in_.read_be(x) || fail(truncated(what)));
  }

  bool boolean(bool& x, const char* what) {
    uint8_t tmp = 0;
    if (!u8(tmp, what))
      return false;
    if (tmp > 1)
      return fail(std::string{"invalid bool byte in "} + what);
    x = tmp == 1;
    return true;
  }

  bool ent(entity& x, const char* what) {
    const std::byte* ptr = nullptr;
    if (!ok() || !in_.read_bytes(16, ptr))
      return fail(truncated(what));
    endpoint_id::bytes_type bytes;
    std::memcpy(bytes.data(), ptr, bytes.size());
    x.endpoint = endpoint_id{bytes};
    return u64(x.object, what);
  }

  bool value(data& x, const char* what) {
    if (!ok())
      return false;
    error inner;
    if (!decode_value(in_, x, inner, limits_))
      return fail(std::string{"invalid "} + what + ": " + inner.message());
    return true;
  }

  bool expiry(expiry_type& x) {
    uint8_t tag = 0;
    if (!u8(tag, "expiry"))
      return false;
    if (tag == 0) {
      x.reset();
      return true;
    }
    if (tag != 1)
      return fail("invalid optional tag " + std::to_string(tag)
                  + " in expiry");
    uint64_t raw = 0;
    if (!u64(raw, "expiry"))
      return false;
    x = timespan{static_cast<int64_t>(raw)};
    return true;
  }

  bool type_tag(data_type& x) {
    uint8_t tag = 0;
    if (!u8(tag, "init_type"))
      return false;
    if (tag > static_cast<uint8_t>(data_type::vector))
      return fail("invalid init_type " + std::to_string(tag));
    x = static_cast<data_type>(tag);
    return true;
  }

  bool count(uint32_t& x, const char* what) {
    return ok() && (in_.read_varbyte(x) || fail(truncated(what)));
  }

  // -- commands ---------------------------------------------------------------

  bool read(put_command& x) {
    return value(x.key, "key") && value(x.value, "value") && expiry(x.expiry)
           && ent(x.publisher, "publisher");
  }

  bool read(put_unique_command& x) {
    return value(x.key, "key") && value(x.value, "value") && expiry(x.expiry)
           && ent(x.who, "who") && u64(x.req_id, "req_id")
           && ent(x.publisher, "publisher");
  }

  bool read(put_unique_result_command& x) {
    return boolean(x.inserted, "inserted") && ent(x.who, "who")
           && u64(x.req_id, "req_id") && ent(x.publisher, "publisher");
  }

  bool read(erase_command& x) {
    return value(x.key, "key") && ent(x.publisher, "publisher");
  }

  bool read(expire_command& x) {
    return value(x.key, "key") && ent(x.publisher, "publisher");
  }

  bool read(add_command& x) {
    return value(x.key, "key") && value(x.value, "value")
           && type_tag(x.init_type) && expiry(x.expiry)
           && ent(x.publisher, "publisher");
  }

  bool read(subtract_command& x) {
    return value(x.key, "key") && value(x.value, "value") && expiry(x.expiry)
           && ent(x.publisher, "publisher");
  }

  bool read(clear_command& x) {
    return ent(x.publisher, "publisher");
  }

  bool read(attach_writer_command& x) {
    return u64(x.offset, "offset")
           && u16(x.heartbeat_interval, "heartbeat_interval");
  }

  bool read(keepalive_command& x) {
    return u64(x.seq, "seq");
  }

  bool read(cumulative_ack_command& x) {
    return u64(x.seq, "seq");
  }

  bool read(nack_command& x) {
    uint32_t n = 0;
    if (!count(n, "nack count"))
      return false;
    // Each sequence number takes 8 bytes: check before allocating.
    if (n > remaining() / 8)
      return fail("nack count " + std::to_string(n)
                  + " exceeds the remaining input");
    x.seqs.resize(n);
    for (auto& seq : x.seqs)
      if (!u64(seq, "nack seqs"))
        return false;
    return true;
  }

  bool read(ack_clone_command& x) {
    uint32_t n = 0;
    if (!u64(x.offset, "offset")
        || !u16(x.heartbeat_interval, "heartbeat_interval")
        || !count(n, "snapshot size"))
      return false;
    // Each entry takes at least two bytes (two type tags).
    if (n > remaining() / 2)
      return fail("snapshot size " + std::to_string(n)
                  + " exceeds the remaining input");
    x.state.clear();
    x.state.reserve(n);
    std::set<data> keys;
    for (uint32_t i = 0; i < n; ++i) {
      data key;
      data val;
      if (!value(key, "snapshot key") || !value(val, "snapshot value"))
        return false;
      if (!keys.insert(key).second)
        return fail("duplicate snapshot key");
      x.state.emplace_back(std::move(key), std::move(val));
    }
    return true;
  }

  bool read(retransmit_failed_command& x) {
    return u64(x.seq, "seq");
  }

  /// Reads the body of the alternative with index `I`.
  template <size_t I = 0>
  bool read_content(size_t index, command_variant& out) {
    if constexpr (I < store_command_kinds) {
      if (index == I) {
        std::variant_alternative_t<I, command_variant> tmp;
        if (!read(tmp))
          return false;
        out.emplace<I>(std::move(tmp));
        return true;
      }
      return read_content<I + 1>(index, out);
    } else {
      return fail("invalid variant index " + std::to_string(index));
    }
  }

private:
  bool ok() const noexcept { return !err_; }

  static std::string truncated(const char* what) {
    return std::string{"truncated input ("} + what + ")";
  }

  reader in_;
  const decode_limits& limits_;
  std::optional<error> err_;
};

} // namespace

std::string_view command_name(size_t variant_index) noexcept {
  if (variant_index < kind_names.size())
    return kind_names[variant_index];
  return "<invalid>";
}

void encode(const store_command& x, byte_buffer& out) {
  write_be<uint64_t>(out, x.seq);
  write_entity(out, x.sender);
  write_entity(out, x.receiver);
  write_u8(out, static_cast<uint8_t>(x.content.index()));
  std::visit(encoder{out}, x.content);
}

expected<store_command> decode_store_command(std::span<const std::byte> bytes,
                                             const decode_limits& limits) {
  decoder src{bytes, limits};
  store_command result;
  uint8_t index = 0;
  if (src.u64(result.seq, "seq") && src.ent(result.sender, "sender")
      && src.ent(result.receiver, "receiver")
      && src.u8(index, "variant index")
      && src.read_content(index, result.content)) {
    if (src.at_end())
      return result;
    src.fail(std::to_string(src.remaining()) + " trailing bytes after "
             + std::string{command_name(index)});
  }
  if (auto& err = src.err())
    return *err;
  return error{ec::invalid_message, "store command: malformed"};
}

} // namespace broker::format::bin
