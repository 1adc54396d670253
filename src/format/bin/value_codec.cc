#include "format/bin/value_codec.hh"

#include <limits>

namespace broker::format::bin {

namespace {

bool write_size(byte_buffer& out, size_t n) {
  if (n > std::numeric_limits<uint32_t>::max())
    return false;
  write_varbyte(out, static_cast<uint32_t>(n));
  return true;
}

bool write_string(byte_buffer& out, std::string_view str) {
  if (!write_size(out, str.size()))
    return false;
  auto pos = out.size();
  out.resize(pos + str.size());
  std::memcpy(out.data() + pos, str.data(), str.size());
  return true;
}

struct encoder {
  byte_buffer& out;

  bool operator()(const none&) { return true; }
  bool operator()(boolean x) {
    write_u8(out, x ? 1 : 0);
    return true;
  }
  bool operator()(count x) {
    write_be<uint64_t>(out, x);
    return true;
  }
  bool operator()(integer x) {
    write_be<uint64_t>(out, static_cast<uint64_t>(x));
    return true;
  }
  bool operator()(real x) {
    write_be<uint64_t>(out, pack_double(x));
    return true;
  }
  bool operator()(const std::string& x) { return write_string(out, x); }
  bool operator()(const address& x) {
    auto pos = out.size();
    out.resize(pos + 16);
    std::memcpy(out.data() + pos, x.bytes().data(), 16);
    return true;
  }
  bool operator()(const subnet& x) {
    (*this)(x.network());
    write_u8(out, static_cast<uint8_t>(x.raw_length()));
    return true;
  }
  bool operator()(const port& x) {
    write_be<uint16_t>(out, x.number());
    write_u8(out, static_cast<uint8_t>(x.type()));
    return true;
  }
  bool operator()(const timestamp& x) {
    write_be<uint64_t>(out,
                       static_cast<uint64_t>(x.time_since_epoch().count()));
    return true;
  }
  bool operator()(const timespan& x) {
    write_be<uint64_t>(out, static_cast<uint64_t>(x.count()));
    return true;
  }
  bool operator()(const enum_value& x) { return write_string(out, x.name); }
  bool operator()(const set& xs) {
    if (!write_size(out, xs.size()))
      return false;
    for (auto& x : xs)
      if (!encode(x, out))
        return false;
    return true;
  }
  bool operator()(const table& xs) {
    if (!write_size(out, xs.size()))
      return false;
    for (auto& [k, v] : xs)
      if (!encode(k, out) || !encode(v, out))
        return false;
    return true;
  }
  bool operator()(const vector& xs) {
    if (!write_size(out, xs.size()))
      return false;
    for (auto& x : xs)
      if (!encode(x, out))
        return false;
    return true;
  }
};

class decoder {
public:
  decoder(reader& in, error& err, const decode_limits& limits)
    : in_(in), err_(err), limits_(limits) {}

  bool value(data& out, int depth) {
    uint8_t tag;
    if (!in_.read_u8(tag))
      return fail("truncated input: missing type tag");
    switch (static_cast<data_type>(tag)) {
      case data_type::none:
        out = data{};
        return true;
      case data_type::boolean: {
        uint8_t b;
        if (!in_.read_u8(b))
          return truncated("boolean");
        if (b > 1)
          return fail("invalid boolean byte " + std::to_string(b));
        out = data{b == 1};
        return true;
      }
      case data_type::count: {
        uint64_t x;
        if (!in_.read_be(x))
          return truncated("count");
        out = data{count{x}};
        return true;
      }
      case data_type::integer: {
        uint64_t x;
        if (!in_.read_be(x))
          return truncated("integer");
        out = data{static_cast<integer>(x)};
        return true;
      }
      case data_type::real: {
        uint64_t x;
        if (!in_.read_be(x))
          return truncated("real");
        out = data{unpack_double(x)};
        return true;
      }
      case data_type::string: {
        std::string str;
        if (!string(str, "string"))
          return false;
        out = data{std::move(str)};
        return true;
      }
      case data_type::address: {
        address addr;
        if (!read_address(addr))
          return truncated("address");
        out = data{addr};
        return true;
      }
      case data_type::subnet: {
        address addr;
        uint8_t len;
        if (!read_address(addr) || !in_.read_u8(len))
          return truncated("subnet");
        auto sn = subnet::from_raw(addr, len);
        if (!sn)
          return fail("invalid subnet prefix length " + std::to_string(len));
        out = data{*sn};
        return true;
      }
      case data_type::port: {
        uint16_t num;
        uint8_t proto;
        if (!in_.read_be(num) || !in_.read_u8(proto))
          return truncated("port");
        if (proto > 3)
          return fail("invalid port protocol " + std::to_string(proto));
        out = data{port{num, static_cast<port::protocol>(proto)}};
        return true;
      }
      case data_type::timestamp: {
        uint64_t x;
        if (!in_.read_be(x))
          return truncated("timestamp");
        out = data{timestamp{timespan{static_cast<int64_t>(x)}}};
        return true;
      }
      case data_type::timespan: {
        uint64_t x;
        if (!in_.read_be(x))
          return truncated("timespan");
        out = data{timespan{static_cast<int64_t>(x)}};
        return true;
      }
      case data_type::enum_value: {
        std::string str;
        if (!string(str, "enum value"))
          return false;
        out = data{enum_value{std::move(str)}};
        return true;
      }
      case data_type::set:
        return container<set>(out, depth, "set", 1);
      case data_type::table:
        return container<table>(out, depth, "table", 2);
      case data_type::vector:
        return container<vector>(out, depth, "vector", 1);
      default:
        return fail("invalid type tag " + std::to_string(tag));
    }
  }

private:
  bool fail(std::string msg) {
    err_ = error{ec::deserialization_failed, std::move(msg)};
    return false;
  }

  bool truncated(const char* what) {
    return fail(std::string{"truncated input while reading a "} + what);
  }

  bool read_address(address& addr) {
    const std::byte* p;
    if (!in_.read_bytes(16, p))
      return false;
    addr = address::from_v6(reinterpret_cast<const uint8_t*>(p));
    return true;
  }

  bool string(std::string& out, const char* what) {
    uint32_t n;
    if (!in_.read_varbyte(n))
      return fail(std::string{"invalid or truncated length of a "} + what);
    // Checked before allocating: a length beyond the input is a lie.
    const std::byte* p;
    if (!in_.read_bytes(n, p))
      return fail(std::string{what} + " length " + std::to_string(n)
                  + " exceeds the remaining input");
    out.assign(reinterpret_cast<const char*>(p), n);
    return true;
  }

  template <class Container>
  bool container(data& out, int depth, const char* what, size_t min_elem) {
    if (depth >= limits_.max_depth) {
      // Well-formed but beyond our limit: ec::invalid_data, so that a
      // receiver can drop this one value and keep the connection.
      err_ = error{ec::invalid_data, "nesting deeper than "
                                       + std::to_string(limits_.max_depth)
                                       + " levels"};
      return false;
    }
    uint32_t n;
    if (!in_.read_varbyte(n))
      return fail(std::string{"invalid or truncated size of a "} + what);
    // Each element takes at least one byte (a tag), so a size beyond the
    // remaining input cannot be honest; reject before allocating.
    if (static_cast<uint64_t>(n) * min_elem > in_.remaining())
      return fail(std::string{what} + " size " + std::to_string(n)
                  + " exceeds the remaining input");
    Container xs;
    if constexpr (std::is_same_v<Container, vector>) {
      xs.resize(n);
      for (auto& x : xs)
        if (!value(x, depth + 1))
          return false;
    } else if constexpr (std::is_same_v<Container, set>) {
      for (uint32_t i = 0; i < n; ++i) {
        data x;
        if (!value(x, depth + 1))
          return false;
        // Senders emit sorted elements: the end hint makes this O(1).
        xs.emplace_hint(xs.end(), std::move(x));
      }
    } else {
      for (uint32_t i = 0; i < n; ++i) {
        data k;
        data v;
        if (!value(k, depth + 1) || !value(v, depth + 1))
          return false;
        xs.emplace_hint(xs.end(), std::move(k), std::move(v));
      }
    }
    out = data{std::move(xs)};
    return true;
  }

  reader& in_;
  error& err_;
  const decode_limits& limits_;
};

} // namespace

bool encode(const data& x, byte_buffer& out) {
  write_u8(out, static_cast<uint8_t>(x.get_type()));
  return std::visit(encoder{out}, x.get_data());
}

bool decode_value(reader& in, data& out, error& err,
                  const decode_limits& limits) {
  decoder dec{in, err, limits};
  return dec.value(out, 0);
}

expected<data> decode(std::span<const std::byte> bytes,
                      const decode_limits& limits) {
  reader in{bytes.data(), bytes.data() + bytes.size()};
  data result;
  error err;
  if (!decode_value(in, result, err, limits))
    return err;
  if (!in.at_end())
    return error{ec::deserialization_failed,
                 std::to_string(in.remaining())
                   + " trailing bytes after the value"};
  return result;
}

} // namespace broker::format::bin
