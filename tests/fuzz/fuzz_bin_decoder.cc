// libFuzzer target for the wire format v1 value codec (src/format/bin).
//
// For every input:
//  1. decode it with broker::format::bin::decode and with the small
//     reference decoder below; both must agree on success and on the value;
//  2. re-encode the value. The bytes must equal the input only when the
//     input is canonical (the reference decoder tracks this): a set or table
//     whose elements/keys are not strictly increasing, an overlong varbyte, a
//     subnet with host bits set or a real whose bits are not what CAF's
//     pack754 would write for the value they unpack to (NaN payloads,
//     exponent 0 or 0x7ff patterns) all legitimately re-encode differently;
//  3. decode the re-encoding: it must give the value modelled by mapping
//     every real through unpack754(pack754(r)), which is the identity except
//     for subnormals (CAF's packing of subnormals is not invertible);
//  4. one more round must be exact: the re-encoding is canonical and
//     reproduces itself byte for byte.

#include "fuzz_common.hh"

#include "format/bin/value_codec.hh"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

using namespace broker;
using namespace broker::fuzz;
namespace bin = broker::format::bin;

namespace {

// -- reference decoder --------------------------------------------------------

// Written independently of src/format/bin/value_codec.cc from the wire
// format description; shares only the float (un)packing primitives.
class ref_decoder {
public:
  ref_decoder(const uint8_t* first, size_t n, int max_depth)
    : pos_(first), end_(first + n), max_depth_(max_depth) {}

  /// Decodes one value spanning the whole input.
  bool run(data& out) { return value(out, 0) && pos_ == end_; }

  bool canonical() const noexcept { return canonical_; }

private:
  bool take(size_t n, const uint8_t*& p) {
    if (static_cast<size_t>(end_ - pos_) < n)
      return false;
    p = pos_;
    pos_ += n;
    return true;
  }

  bool u8(uint8_t& x) {
    const uint8_t* p;
    if (!take(1, p))
      return false;
    x = *p;
    return true;
  }

  template <size_t N>
  bool be(uint64_t& x) {
    const uint8_t* p;
    if (!take(N, p))
      return false;
    x = 0;
    for (size_t i = 0; i < N; ++i)
      x = (x << 8) | p[i];
    return true;
  }

  // LEB128 in at most 5 bytes with a value below 2^32.
  bool varbyte(uint32_t& x) {
    uint64_t acc = 0;
    for (int i = 0; i < 5; ++i) {
      uint8_t b;
      if (!u8(b))
        return false;
      acc |= uint64_t{b & 0x7fu} << (7 * i);
      if ((b & 0x80) == 0) {
        if (acc > UINT32_MAX)
          return false;
        if (i > 0 && b == 0)
          canonical_ = false; // overlong
        x = static_cast<uint32_t>(acc);
        return true;
      }
    }
    return false;
  }

  bool bytes(std::string& out) {
    uint32_t n;
    const uint8_t* p;
    if (!varbyte(n) || !take(n, p))
      return false;
    out.assign(reinterpret_cast<const char*>(p), n);
    return true;
  }

  bool value(data& out, int depth) {
    uint8_t tag;
    if (!u8(tag))
      return false;
    uint64_t u = 0;
    switch (tag) {
      case 0:
        out = data{};
        return true;
      case 1: {
        uint8_t b;
        if (!u8(b) || b > 1)
          return false;
        out = data{b == 1};
        return true;
      }
      case 2:
        if (!be<8>(u))
          return false;
        out = data{count{u}};
        return true;
      case 3:
        if (!be<8>(u))
          return false;
        out = data{static_cast<integer>(u)};
        return true;
      case 4: {
        if (!be<8>(u))
          return false;
        double r = bin::unpack_double(u);
        if (bin::pack_double(r) != u)
          canonical_ = false;
        out = data{r};
        return true;
      }
      case 5:
      case 11: {
        std::string str;
        if (!bytes(str))
          return false;
        if (tag == 5)
          out = data{std::move(str)};
        else
          out = data{enum_value{std::move(str)}};
        return true;
      }
      case 6: {
        const uint8_t* p;
        if (!take(16, p))
          return false;
        out = data{address::from_v6(p)};
        return true;
      }
      case 7: {
        const uint8_t* p;
        uint8_t len;
        if (!take(16, p) || !u8(len) || len > 128)
          return false;
        auto sn = subnet::from_raw(address::from_v6(p), len);
        if (!sn)
          return false;
        // Host bits set: the decoder masks them away.
        for (unsigned bit = len; bit < 128; ++bit)
          if (p[bit / 8] & (0x80u >> (bit % 8)))
            canonical_ = false;
        out = data{*sn};
        return true;
      }
      case 8: {
        uint8_t proto;
        if (!be<2>(u) || !u8(proto) || proto > 3)
          return false;
        out = data{port{static_cast<uint16_t>(u),
                        static_cast<port::protocol>(proto)}};
        return true;
      }
      case 9:
        if (!be<8>(u))
          return false;
        out = data{timestamp{timespan{static_cast<int64_t>(u)}}};
        return true;
      case 10:
        if (!be<8>(u))
          return false;
        out = data{timespan{static_cast<int64_t>(u)}};
        return true;
      case 12:
      case 13:
      case 14:
        return container(tag, out, depth);
      default:
        return false;
    }
  }

  bool container(uint8_t tag, data& out, int depth) {
    uint32_t n;
    if (depth >= max_depth_ || !varbyte(n))
      return false;
    if (tag == 14) {
      vector xs;
      for (uint32_t i = 0; i < n; ++i) {
        data x;
        if (!value(x, depth + 1))
          return false;
        xs.emplace_back(std::move(x));
      }
      out = data{std::move(xs)};
      return true;
    }
    if (tag == 12) {
      set xs;
      data prev;
      for (uint32_t i = 0; i < n; ++i) {
        data x;
        if (!value(x, depth + 1))
          return false;
        if (i > 0 && !(prev < x))
          canonical_ = false; // unsorted or duplicate
        xs.insert(x);
        prev = std::move(x);
      }
      out = data{std::move(xs)};
      return true;
    }
    table xs;
    data prev;
    for (uint32_t i = 0; i < n; ++i) {
      data k;
      data v;
      if (!value(k, depth + 1) || !value(v, depth + 1))
        return false;
      if (i > 0 && !(prev < k))
        canonical_ = false;
      xs.try_emplace(k, std::move(v)); // the first of equal keys stays
      prev = std::move(k);
    }
    out = data{std::move(xs)};
    return true;
  }

  const uint8_t* pos_;
  const uint8_t* end_;
  int max_depth_;
  bool canonical_ = true;
};

std::span<const std::byte> as_span(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const std::byte*>(p), n};
}

std::span<const std::byte> as_span(const bin::byte_buffer& buf) {
  return {buf.data(), buf.size()};
}

bool same_bytes(const bin::byte_buffer& buf, const uint8_t* p, size_t n) {
  return buf.size() == n && (n == 0 || std::memcmp(buf.data(), p, n) == 0);
}

// Leaf model of a binary round trip: reals go through pack754/unpack754.
bool bin_leaf(const data& x, data& out) {
  if (auto r = x.get_if<real>())
    out = data{bin::unpack_double(bin::pack_double(*r))};
  else
    out = x;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* buf, size_t size) {
  bin::decode_limits limits;
  auto decoded = bin::decode(as_span(buf, size), limits);
  ref_decoder ref{buf, size, limits.max_depth};
  data expected;
  bool ref_ok = ref.run(expected);
  FUZZ_CHECK(decoded.has_value() == ref_ok);
  if (!decoded) {
    FUZZ_CHECK(!decoded.error().to_string().empty());
    return 0;
  }
  const data& x = *decoded;
  FUZZ_CHECK(strict_equal(x, expected));
  FUZZ_CHECK(compare(x, x) == 0);
  (void) to_string(x); // the text rendering must cope with any value

  // First round: bytes identical only for canonical input.
  bin::byte_buffer first;
  FUZZ_CHECK(bin::encode(x, first));
  if (ref.canonical())
    FUZZ_CHECK(same_bytes(first, buf, size));
  auto y = bin::decode(as_span(first), limits);
  FUZZ_CHECK(y.has_value());
  data model;
  round_trip_model(x, model, bin_leaf);
  FUZZ_CHECK(strict_equal(*y, model));
  if (*y == x)
    FUZZ_CHECK(hash_value(*y) == hash_value(x));

  // Second round: the encoder's output is canonical and a fixed point.
  bin::byte_buffer second;
  FUZZ_CHECK(bin::encode(*y, second));
  ref_decoder ref2{reinterpret_cast<const uint8_t*>(second.data()),
                   second.size(), limits.max_depth};
  data ignored;
  FUZZ_CHECK(ref2.run(ignored) && ref2.canonical());
  auto z = bin::decode(as_span(second), limits);
  FUZZ_CHECK(z.has_value() && strict_equal(*z, *y));
  bin::byte_buffer third;
  FUZZ_CHECK(bin::encode(*z, third) && third == second);
  // Without lossy reals the first round was already exact.
  if (strict_equal(model, x))
    FUZZ_CHECK(second == first);
  return 0;
}
