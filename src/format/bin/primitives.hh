#pragma once

// Big-endian integers, CAF's IEEE-754 packing and 32-bit varbytes: the
// primitives of Broker's wire format v1 (wire-protocol.md §1, §4).

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace broker::format::bin {

using byte_buffer = std::vector<std::byte>;

/// Converts between host order and big-endian (an involution).
template <class T>
T to_big_endian(T x) noexcept {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native == std::endian::big || sizeof(T) == 1)
    return x;
  else if constexpr (sizeof(T) == 2)
    return __builtin_bswap16(x);
  else if constexpr (sizeof(T) == 4)
    return __builtin_bswap32(x);
  else
    return __builtin_bswap64(x);
}

template <class T>
void write_be(byte_buffer& out, T x) {
  auto be = to_big_endian(x);
  auto pos = out.size();
  out.resize(pos + sizeof(T));
  std::memcpy(out.data() + pos, &be, sizeof(T));
}

inline void write_u8(byte_buffer& out, uint8_t x) {
  out.push_back(static_cast<std::byte>(x));
}

/// Unsigned LEB128, truncated to 32 bits as in real Broker.
inline void write_varbyte(byte_buffer& out, uint32_t x) {
  while (x > 0x7f) {
    out.push_back(static_cast<std::byte>((x & 0x7f) | 0x80));
    x >>= 7;
  }
  out.push_back(static_cast<std::byte>(x));
}

// Special patterns of CAF's pack754. Note the swapped infinities.
inline constexpr uint64_t packed_nan = 0xFFFFFFFFFFFFFFFFull;
inline constexpr uint64_t packed_pinf = 0xFFF0000000000000ull;
inline constexpr uint64_t packed_ninf = 0x7FF0000000000000ull;

/// The 64-bit pattern CAF's pack754 produces for `x`. Normal numbers and
/// zeros keep their IEEE bits; NaN and the infinities use the patterns
/// above; subnormals come out as CAF's normalisation loop computes them
/// (with a negative biased exponent that spills into the sign bit).
inline uint64_t pack_double(double x) noexcept {
  if (std::isnan(x))
    return packed_nan;
  if (std::isinf(x))
    return std::signbit(x) ? packed_ninf : packed_pinf;
  auto bits = std::bit_cast<uint64_t>(x);
  if (std::fpclassify(x) != FP_SUBNORMAL)
    return bits;
  uint64_t sign = bits >> 63;
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  int p = 63 - std::countl_zero(mant); // highest set bit, 0..51
  auto exp = static_cast<uint64_t>(static_cast<int64_t>(p) - 51);
  uint64_t significand = (mant - (uint64_t{1} << p)) << (52 - p);
  return (sign << 63) | (exp << 52) | significand;
}

/// The double CAF's unpack754 produces for `bits`.
inline double unpack_double(uint64_t bits) noexcept {
  switch (bits) {
    case 0:
      return 0.0;
    case uint64_t{1} << 63:
      return -0.0;
    case packed_pinf:
      return INFINITY;
    case packed_ninf:
      return -INFINITY;
    case packed_nan:
      return NAN;
    default:
      break;
  }
  auto exp_field = static_cast<int>((bits >> 52) & 0x7ff);
  if (exp_field != 0 && exp_field != 0x7ff)
    return std::bit_cast<double>(bits); // CAF's loop is exact here
  // CAF always assumes an implicit leading one: exponent field 0 yields
  // 1.m * 2^-1023 (rounded once into the subnormal range), 0x7ff overflows.
  auto mant = static_cast<double>(bits & ((uint64_t{1} << 52) - 1));
  double result = std::ldexp(1.0 + mant / 4503599627370496.0,
                             exp_field - 1023);
  return (bits >> 63) ? -result : result;
}

/// Reads big-endian values and varbytes from a byte range, never past its
/// end. Every read returns false on truncation.
class reader {
public:
  reader(const std::byte* first, const std::byte* last) noexcept
    : pos_(first), end_(last) {}

  size_t remaining() const noexcept { return static_cast<size_t>(end_ - pos_); }

  const std::byte* position() const noexcept { return pos_; }

  bool at_end() const noexcept { return pos_ == end_; }

  template <class T>
  bool read_be(T& x) noexcept {
    if (remaining() < sizeof(T))
      return false;
    T tmp;
    std::memcpy(&tmp, pos_, sizeof(T));
    pos_ += sizeof(T);
    x = to_big_endian(tmp);
    return true;
  }

  bool read_u8(uint8_t& x) noexcept {
    if (pos_ == end_)
      return false;
    x = static_cast<uint8_t>(*pos_++);
    return true;
  }

  /// Reads a varbyte of at most 5 bytes (32 bits of payload).
  bool read_varbyte(uint32_t& x) noexcept {
    uint64_t acc = 0;
    for (int n = 0; n < 5; ++n) {
      uint8_t b;
      if (!read_u8(b))
        return false;
      acc |= static_cast<uint64_t>(b & 0x7f) << (7 * n);
      if ((b & 0x80) == 0) {
        if (acc > UINT32_MAX)
          return false;
        x = static_cast<uint32_t>(acc);
        return true;
      }
    }
    return false;
  }

  bool read_bytes(size_t n, const std::byte*& out) noexcept {
    if (remaining() < n)
      return false;
    out = pos_;
    pos_ += n;
    return true;
  }

private:
  const std::byte* pos_;
  const std::byte* end_;
};

} // namespace broker::format::bin
