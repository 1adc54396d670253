#include "store/sqlite_blob.hh"

#include "format/bin/value_codec.hh"

#include <algorithm>
#include <cmath>

namespace broker::detail {

namespace {

bool has_negative_zero(const data& x) {
  switch (x.get_type()) {
    case data_type::real: {
      auto r = x.get<real>();
      return r == 0.0 && std::signbit(r);
    }
    case data_type::set:
      return std::any_of(x.get<set>().begin(), x.get<set>().end(),
                         has_negative_zero);
    case data_type::table:
      for (auto& [k, v] : x.get<table>())
        if (has_negative_zero(k) || has_negative_zero(v))
          return true;
      return false;
    case data_type::vector:
      return std::any_of(x.get<vector>().begin(), x.get<vector>().end(),
                         has_negative_zero);
    default:
      return false;
  }
}

// -0.0 == 0.0 as data, but their encodings differ. Keys are looked up by
// their encoding, so they are stored with +0.0.
data without_negative_zero(const data& x) {
  switch (x.get_type()) {
    case data_type::real:
      return x.get<real>() == 0.0 ? data{0.0} : x;
    case data_type::set: {
      set result;
      for (auto& y : x.get<set>())
        result.insert(without_negative_zero(y));
      return result;
    }
    case data_type::table: {
      table result;
      for (auto& [k, v] : x.get<table>())
        result.emplace(without_negative_zero(k), without_negative_zero(v));
      return result;
    }
    case data_type::vector: {
      vector result;
      for (auto& y : x.get<vector>())
        result.push_back(without_negative_zero(y));
      return result;
    }
    default:
      return x;
  }
}

} // namespace

expected<format::bin::byte_buffer> to_blob(const data& x) {
  format::bin::byte_buffer buf;
  buf.reserve(64);
  if (!format::bin::encode(x, buf))
    return error{ec::serialization_failed,
                 "value too large for wire format v1"};
  return buf;
}

expected<format::bin::byte_buffer> key_blob(const data& key) {
  if (has_negative_zero(key))
    return to_blob(without_negative_zero(key));
  return to_blob(key);
}

} // namespace broker::detail
