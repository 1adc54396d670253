#include "format/bin/overlay_update.hh"

#include <cstring>

namespace broker::format::bin {

namespace {

constexpr char magic[3] = {'B', 'O', 'V'};
constexpr uint8_t version = 1;
constexpr size_t id_size = 16;

void write_id(byte_buffer& out, const endpoint_id& id) {
  auto& bytes = id.bytes();
  auto* p = reinterpret_cast<const std::byte*>(bytes.data());
  out.insert(out.end(), p, p + id_size);
}

bool read_id(reader& in, endpoint_id& id) {
  const std::byte* p;
  if (!in.read_bytes(id_size, p))
    return false;
  std::array<uint8_t, id_size> raw;
  std::memcpy(raw.data(), p, id_size);
  id = endpoint_id{raw};
  return true;
}

error malformed(const char* what) {
  return error{ec::invalid_message, std::string{"malformed overlay update: "}
                                      + what};
}

} // namespace

void encode(const overlay_update& x, byte_buffer& out) {
  for (char c : magic)
    out.push_back(static_cast<std::byte>(c));
  write_u8(out, version);
  write_id(out, x.origin);
  write_be(out, x.seq);
  write_u8(out, x.forwards ? 1 : 0);
  write_varbyte(out, static_cast<uint32_t>(x.neighbours.size()));
  for (auto& n : x.neighbours)
    write_id(out, n);
  encode_filter(x.wants, out);
}

bool is_overlay_update(std::span<const std::byte> payload) noexcept {
  return payload.size() >= 4 && std::memcmp(payload.data(), magic, 3) == 0;
}

expected<overlay_update>
decode_overlay_update(std::span<const std::byte> bytes) {
  if (!is_overlay_update(bytes))
    return malformed("wrong magic");
  reader in{bytes.data() + 3, bytes.data() + bytes.size()};
  uint8_t ver = 0;
  overlay_update result;
  uint8_t flags = 0;
  uint32_t n = 0;
  if (!in.read_u8(ver) || ver != version)
    return malformed("unsupported version");
  if (!read_id(in, result.origin) || !in.read_be(result.seq)
      || !in.read_u8(flags) || !in.read_varbyte(n))
    return malformed("truncated header");
  if (n > in.remaining() / id_size)
    return malformed("more neighbours than bytes");
  result.forwards = (flags & 1) != 0;
  result.neighbours.resize(n);
  for (auto& id : result.neighbours)
    if (!read_id(in, id))
      return malformed("truncated neighbour list");
  auto filter = decode_filter({in.position(), in.remaining()});
  if (!filter)
    return malformed("bad filter");
  result.wants = std::move(*filter);
  return result;
}

} // namespace broker::format::bin
