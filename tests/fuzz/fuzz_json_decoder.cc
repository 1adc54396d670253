// libFuzzer target for the WebSocket API's JSON value codec
// (src/format/json).
//
// For every input that decodes to a value `x`:
//  1. encode `x` and decode the text again. The JSON form is lossy for some
//     leaves (reals are printed with a fixed number of decimals, timestamps
//     with milliseconds, non-finite reals may have no decodable form), so the
//     expected result is modelled leaf by leaf: every non-container value is
//     replaced by what its own JSON round trip gives, and sets/tables are
//     rebuilt as a decoder would (the first of elements that became equal
//     wins). If some leaf has no round trip, decoding the whole text must
//     fail as well; otherwise it must succeed and match the model exactly;
//  2. a second round must be exact: the text reproduces itself;
//  3. the value also survives the binary codec (cross-check of the models).

#include "fuzz_common.hh"

#include "format/bin/value_codec.hh"
#include "format/json/value_codec.hh"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

using namespace broker;
using namespace broker::fuzz;
namespace bin = broker::format::bin;
namespace json = broker::format::json;

namespace {

// Leaf model of a JSON round trip: encode the leaf alone and decode it.
bool json_leaf(const data& x, data& out) {
  auto text = json::encode(x);
  auto y = json::decode(text);
  if (!y)
    return false;
  // A leaf must come back as the same type.
  FUZZ_CHECK(y->get_type() == x.get_type());
  out = std::move(*y);
  return true;
}

bool bin_leaf(const data& x, data& out) {
  if (auto r = x.get_if<real>())
    out = data{bin::unpack_double(bin::pack_double(*r))};
  else
    out = x;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* buf, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(buf), size};
  auto decoded = json::decode(input);
  if (!decoded) {
    FUZZ_CHECK(!decoded.error().to_string().empty());
    return 0;
  }
  const data& x = *decoded;
  (void) to_string(x);

  // First round: lossy leaves as modelled.
  auto first = json::encode(x);
  FUZZ_CHECK(!first.empty());
  data model;
  bool has_round_trip = round_trip_model(x, model, json_leaf);
  auto y = json::decode(first);
  if (!has_round_trip) {
    FUZZ_CHECK(!y.has_value());
    return 0;
  }
  FUZZ_CHECK(y.has_value());
  FUZZ_CHECK(strict_equal(*y, model));

  // Second round: exact.
  auto second = json::encode(*y);
  auto z = json::decode(second);
  FUZZ_CHECK(z.has_value() && strict_equal(*z, *y));
  FUZZ_CHECK(json::encode(*z) == second);
  if (strict_equal(model, x))
    FUZZ_CHECK(second == first);

  // The binary codec takes the same value.
  bin::byte_buffer bytes;
  FUZZ_CHECK(bin::encode(x, bytes));
  auto b = bin::decode(std::span<const std::byte>{bytes.data(), bytes.size()});
  data bin_model;
  round_trip_model(x, bin_model, bin_leaf);
  FUZZ_CHECK(b.has_value() && strict_equal(*b, bin_model));
  return 0;
}
