// Wire format v1 value encoding: golden vectors from a real Broker, CAF's
// float quirks, and malformed input.
#include "format/bin/value_codec.hh"

#include "golden.hh"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace broker;
using namespace broker::format;
using broker::test::hex;
using broker::test::unhex;

namespace {

std::string enc(const data& x) {
  bin::byte_buffer buf;
  EXPECT_TRUE(bin::encode(x, buf));
  return hex(buf);
}

expected<data> dec(const std::string& hexstr) {
  auto bytes = unhex(hexstr);
  return bin::decode(std::span{bytes.data(), bytes.size()});
}

void expect_round_trip_all(const char* file) {
  auto frames = test::golden_data_frames(file);
  ASSERT_FALSE(frames.empty());
  for (auto& frame : frames) {
    SCOPED_TRACE(frame.meaning);
    auto value = bin::decode(std::span{frame.payload.data(),
                                       frame.payload.size()});
    ASSERT_TRUE(value) << value.error().to_string();
    bin::byte_buffer out;
    ASSERT_TRUE(bin::encode(*value, out));
    EXPECT_EQ(hex(out), hex(frame.payload));
  }
}

} // namespace

TEST(BinValueCodec, EveryGoldenDataValueRoundTripsByteForByte) {
  expect_round_trip_all("data-values.json");
}

TEST(BinValueCodec, EveryGoldenZeekMessageRoundTripsByteForByte) {
  expect_round_trip_all("zeek-messages.json");
}

TEST(BinValueCodec, GoldenValuesDecodeToTheExpectedData) {
  std::map<std::string, data> expected_values = {
    {"/golden/values/none", data{}},
    {"/golden/values/count-max", data{std::numeric_limits<count>::max()}},
    {"/golden/values/integer-min", data{std::numeric_limits<integer>::min()}},
    {"/golden/values/real-0.1", data{0.1}},
    {"/golden/values/string-utf8", data{"h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac"}},
    {"/golden/values/string-bytes-non-utf8",
     data{std::string{"\xff\xfe\x00" "abc\x80", 7}}},
    {"/golden/values/address-v4", data{*address::parse("192.0.2.1")}},
    {"/golden/values/subnet-v4", data{*subnet::parse("10.0.0.0/8")}},
    {"/golden/values/subnet-v4-host-bits", data{*subnet::parse("192.0.2.0/24")}},
    {"/golden/values/port-icmp", data{port{8, port::protocol::icmp}}},
    {"/golden/values/timestamp",
     data{timestamp{timespan{1700000000123456789}}}},
    {"/golden/values/timespan-negative", data{timespan{-2000000000}}},
    {"/golden/values/enum", data{enum_value{"Notice::ACTION_LOG"}}},
    {"/golden/values/set", data{set{count{1}, count{2}, count{3}}}},
    {"/golden/values/table", data{table{{"a", 1}, {"b", 2}}}},
    {"/golden/values/vector", data{vector{1, "two", 3.0}}},
    {"/golden/values/real-subnormal", data{-1.596672247627776e+293}},
  };
  size_t seen = 0;
  for (auto& frame : test::golden_data_frames("data-values.json")) {
    auto i = expected_values.find(frame.topic);
    if (i == expected_values.end())
      continue;
    ++seen;
    auto value = bin::decode(std::span{frame.payload.data(),
                                       frame.payload.size()});
    ASSERT_TRUE(value) << frame.topic;
    EXPECT_EQ(*value, i->second) << frame.topic << ": " << to_string(*value);
  }
  EXPECT_EQ(seen, expected_values.size());
}

TEST(BinValueCodec, DocumentedExamples) {
  EXPECT_EQ(enc(data{*address::parse("192.0.2.1")}),
            "0600000000000000000000ffffc0000201");
  EXPECT_EQ(enc(data{port{443, port::protocol::tcp}}), "0801bb01");
  EXPECT_EQ(enc(data{1.5}), "043ff8000000000000");
  EXPECT_EQ(enc(data{enum_value{"FOO"}}), "0b03464f4f");
  EXPECT_EQ(enc(data{std::string(300, 'x')}).substr(0, 6), "05ac02");
  EXPECT_EQ(enc(data{*subnet::parse("10.0.0.0/8")}),
            "0700000000000000000000ffff0a00000068");
}

TEST(BinValueCodec, RealsFollowCafsPackingQuirks) {
  EXPECT_EQ(enc(data{std::nan("")}), "04ffffffffffffffff");
  EXPECT_EQ(enc(data{INFINITY}), "04fff0000000000000");  // swapped
  EXPECT_EQ(enc(data{-INFINITY}), "047ff0000000000000"); // swapped
  EXPECT_EQ(enc(data{-0.0}), "048000000000000000");
  EXPECT_EQ(enc(data{5e-324}), "04fcd0000000000000");
  EXPECT_EQ(*dec("04fff0000000000000"), data{INFINITY});
  EXPECT_EQ(*dec("047ff0000000000000"), data{-INFINITY});
  EXPECT_TRUE(std::isnan(dec("04ffffffffffffffff")->get<real>()));
  EXPECT_TRUE(std::signbit(dec("048000000000000000")->get<real>()));
  // What real Broker makes of the packed subnormal.
  EXPECT_EQ(dec("04fcd0000000000000")->get<real>(), -1.596672247627776e+293);
  // An IEEE quiet NaN pattern is not special to CAF: it overflows to inf.
  EXPECT_EQ(dec("047ff8000000000000")->get<real>(), INFINITY);
  // Exponent field 0 gets CAF's implicit leading one.
  EXPECT_EQ(dec("040000000000000001")->get<real>(), std::ldexp(1.0, -1023));
}

TEST(BinValueCodec, NormalRealsKeepTheirIeeeBits) {
  for (double x : {1.0, -2.5, 0.1, 1e300, -1e-300, 2.2250738585072014e-308,
                   std::numeric_limits<double>::max()}) {
    bin::byte_buffer buf;
    ASSERT_TRUE(bin::encode(data{x}, buf));
    auto back = bin::decode(std::span{buf.data(), buf.size()});
    ASSERT_TRUE(back);
    EXPECT_EQ(back->get<real>(), x);
  }
}

TEST(BinValueCodec, RoundTripsNestedValues) {
  data x{table{
    {data{vector{*address::parse("10.0.0.1"), port{80, port::protocol::tcp}}},
     data{"web"}},
    {data{"k"}, data{vector{set{1, 2}, table{{"x", count{5}}}, data{}}}},
  }};
  bin::byte_buffer buf;
  ASSERT_TRUE(bin::encode(x, buf));
  auto back = bin::decode(std::span{buf.data(), buf.size()});
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, x);
}

TEST(BinValueCodec, VarbytesUseAtMostFiveBytes) {
  EXPECT_FALSE(dec("05ffffffffff01")); // 6-byte varbyte
  EXPECT_FALSE(dec("05ffffffff7f"));   // > 32 bits
}

TEST(BinValueCodec, RejectsMalformedInput) {
  struct bad_case {
    const char* hex;
    const char* why;
  };
  bad_case cases[] = {
    {"", "empty"},
    {"0f", "unknown tag 15"},
    {"ff", "unknown tag 255"},
    {"01", "boolean without byte"},
    {"0102", "boolean byte 2"},
    {"02000000", "truncated count"},
    {"0305", "truncated integer"},
    {"04", "truncated real"},
    {"0505616263", "string shorter than its length"},
    {"05", "string without length"},
    {"06000000", "truncated address"},
    {"0700000000000000000000ffff0a00000081", "subnet length 129"},
    {"0700000000000000000000ffff0a000000", "subnet without length"},
    {"080050", "truncated port"},
    {"08005004", "port protocol 4"},
    {"09", "truncated timestamp"},
    {"0a0000", "truncated timespan"},
    {"0b05", "truncated enum"},
    {"0c02", "set shorter than its size"},
    {"0d010500", "table without value"},
    {"0e8080808008", "vector claiming 2^31 elements"},
    {"0e010000", "vector of nil with a trailing byte"},
    {"0000", "trailing bytes"},
  };
  for (auto& c : cases) {
    auto result = dec(c.hex);
    EXPECT_FALSE(result) << c.why;
    if (!result) {
      EXPECT_EQ(result.error().code(), ec::deserialization_failed) << c.why;
      EXPECT_FALSE(result.error().message().empty()) << c.why;
    }
  }
}

TEST(BinValueCodec, LimitsNestingDepth) {
  // 100 nested vectors decode; 101 do not.
  std::string ok;
  for (int i = 0; i < 100; ++i)
    ok += "0e01";
  ok += "00";
  EXPECT_TRUE(dec(ok));
  std::string deep;
  for (int i = 0; i < 100000; ++i)
    deep += "0e01";
  deep += "00";
  auto result = dec(deep);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("nesting"), std::string::npos);
  // Well-formed, only too deep for us: receivers drop the value, not the
  // connection.
  EXPECT_EQ(result.error().code(), ec::invalid_data);
}

TEST(BinValueCodec, HugeClaimedSizesDoNotAllocate) {
  // A table claiming 2^32-1 entries in a 6-byte input fails at once.
  auto result = dec("0dffffffff0f");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("exceeds"), std::string::npos);
}

TEST(BinValueCodec, UnsortedSetsAreAccepted) {
  // Real Broker sorts; a sender that does not still yields a proper set.
  auto result = dec("0c03030000000000000003030000000000000001030000000000000003");
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (data{set{1, 3}}));
}
