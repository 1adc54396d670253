#pragma once

// Helpers shared by the fuzz targets: a stricter equality than
// broker::data's operator== and a "what a round trip should give" model.

#include "broker/data.hh"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

namespace broker::fuzz {

/// Stops the fuzzer with a short message; libFuzzer then saves the input.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  __builtin_trap();
}

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      ::broker::fuzz::fail(#cond);                                             \
  } while (false)

/// Like operator== but reals must have the same bits (so 0.0 != -0.0; any
/// two NaNs are equal) and containers must match element by element in
/// iteration order.
inline bool strict_equal(const data& x, const data& y) {
  if (x.get_type() != y.get_type())
    return false;
  return std::visit(
    [&y](const auto& xv) -> bool {
      using T = std::decay_t<decltype(xv)>;
      const auto& yv = y.get<T>();
      if constexpr (std::is_same_v<T, real>) {
        if (std::isnan(xv) || std::isnan(yv))
          return std::isnan(xv) && std::isnan(yv);
        return std::bit_cast<uint64_t>(xv) == std::bit_cast<uint64_t>(yv);
      } else if constexpr (std::is_same_v<T, set>
                           || std::is_same_v<T, vector>) {
        if (xv.size() != yv.size())
          return false;
        for (auto i = xv.begin(), j = yv.begin(); i != xv.end(); ++i, ++j)
          if (!strict_equal(*i, *j))
            return false;
        return true;
      } else if constexpr (std::is_same_v<T, table>) {
        if (xv.size() != yv.size())
          return false;
        for (auto i = xv.begin(), j = yv.begin(); i != xv.end(); ++i, ++j)
          if (!strict_equal(i->first, j->first)
              || !strict_equal(i->second, j->second))
            return false;
        return true;
      } else {
        return xv == yv;
      }
    },
    x.get_data());
}

/// The value a lossy round trip should produce from `x`: `leaf` maps every
/// non-container value (returning false when it has no round trip at all);
/// sets and tables are rebuilt in `x`'s order with the first of any
/// elements/keys that became equal winning, as a decoder reading `x`'s
/// encoding would do.
/// @returns false when some leaf has no round trip.
template <class Leaf>
bool round_trip_model(const data& x, data& out, Leaf& leaf) {
  switch (x.get_type()) {
    case data_type::set: {
      set result;
      for (auto& e : x.get<set>()) {
        data m;
        if (!round_trip_model(e, m, leaf))
          return false;
        result.emplace(std::move(m));
      }
      out = data{std::move(result)};
      return true;
    }
    case data_type::table: {
      table result;
      for (auto& [k, v] : x.get<table>()) {
        data mk;
        data mv;
        if (!round_trip_model(k, mk, leaf) || !round_trip_model(v, mv, leaf))
          return false;
        result.try_emplace(std::move(mk), std::move(mv));
      }
      out = data{std::move(result)};
      return true;
    }
    case data_type::vector: {
      vector result;
      result.reserve(x.get<vector>().size());
      for (auto& e : x.get<vector>()) {
        data m;
        if (!round_trip_model(e, m, leaf))
          return false;
        result.emplace_back(std::move(m));
      }
      out = data{std::move(result)};
      return true;
    }
    default:
      return leaf(x, out);
  }
}

} // namespace broker::fuzz
