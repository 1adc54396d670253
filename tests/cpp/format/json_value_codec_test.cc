// The WebSocket JSON value encoding (websocket-api.md §4): every type in
// both directions, the documented rules and leniencies, malformed input, and
// the golden exchanges captured from Broker's own WebSocket server.
#include "format/json/value_codec.hh"

#include "format/json/utf8.hh"
#include "golden.hh"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <regex>
#include <string>

using namespace broker;
using namespace broker::format;
using namespace std::literals;

namespace {

constexpr auto int64_min = std::numeric_limits<int64_t>::min();
constexpr auto int64_max = std::numeric_limits<int64_t>::max();
constexpr auto uint64_max = std::numeric_limits<uint64_t>::max();

timestamp ts(int64_t ns) {
  return timestamp{timespan{ns}};
}

data addr(const char* text) {
  auto result = address::parse(text);
  EXPECT_TRUE(result) << text;
  return data{result.value_or(address{})};
}

data net(const char* text) {
  auto result = subnet::parse(text);
  EXPECT_TRUE(result) << text;
  return data{result.value_or(subnet{})};
}

data tcp(uint16_t n) {
  return data{port{n, port::protocol::tcp}};
}

data udp(uint16_t n) {
  return data{port{n, port::protocol::udp}};
}

data icmp(uint16_t n) {
  return data{port{n, port::protocol::icmp}};
}

data unknown_port(uint16_t n) {
  return data{port{n, port::protocol::unknown}};
}

/// A value object with the given tag and payload text.
std::string obj(std::string_view tag, std::string_view payload) {
  std::string result = "{\"@data-type\":\"";
  result += tag;
  result += "\",\"data\":";
  result += payload;
  result += '}';
  return result;
}

std::string enc(const data& x) {
  return json::encode(x);
}

/// Shows a value in its JSON form (and Broker's text form) in failures.
std::string show(const data& x) {
  return enc(x) + " [" + to_string(x) + "]";
}

testing::AssertionResult decodes_to(std::string_view text, const data& want) {
  auto got = json::decode(text);
  if (!got)
    return testing::AssertionFailure()
           << "rejected " << text << ": " << got.error().to_string();
  if (*got != want)
    return testing::AssertionFailure() << "decoded " << text << " to "
                                       << show(*got) << ", want " << show(want);
  return testing::AssertionSuccess();
}

testing::AssertionResult rejects(std::string_view text,
                                 ec code = ec::deserialization_failed) {
  auto got = json::decode(text);
  if (got)
    return testing::AssertionFailure()
           << "accepted " << text << " as " << show(*got);
  if (got.error().code() != code)
    return testing::AssertionFailure()
           << "rejected " << text << " with " << got.error().to_string()
           << ", want code " << to_string(code);
  if (got.error().message().empty())
    return testing::AssertionFailure() << "empty error message";
  return testing::AssertionSuccess();
}

/// @returns the error message for `text`, or "<accepted>".
std::string error_of(std::string_view text) {
  auto got = json::decode(text);
  return got ? "<accepted>"s : got.error().message();
}

bool valid_utf8(std::string_view str) {
  for (size_t i = 0; i < str.size();) {
    auto n = json::utf8_sequence_length(str, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

/// One of each type, nested, to exercise round trips and truncation.
data rich_value() {
  table inner{{data{"k"}, data{vector{data{1}, data{2.5}}}},
              {addr("10.0.0.1"), data{set{data{count{1}}, data{"x"}}}}};
  return data{vector{
    data{},
    data{true},
    data{false},
    data{count{uint64_max}},
    data{integer{int64_min}},
    data{-1.25e-300},
    data{std::numeric_limits<double>::infinity()},
    data{"q\"b\\s/\n\x01\x7f h\xc3\xa9 \xf0\x9f\x98\x80"},
    addr("192.0.2.1"),
    addr("2001:db8::1"),
    net("10.0.0.0/8"),
    net("2001:db8::/32"),
    tcp(443),
    udp(53),
    icmp(8),
    unknown_port(0),
    data{ts(1700000000123000000)},
    data{timespan{-1500000}},
    data{enum_value{"Notice::ACTION_LOG"}},
    data{set{}},
    data{table{}},
    data{vector{}},
    data{inner},
    data{set{data{inner}, data{vector{data{}}}}},
  }};
}

} // namespace

// -- encoding -----------------------------------------------------------------

TEST(JsonValueCodec, EncodesScalars) {
  EXPECT_EQ(enc(data{}), R"({"@data-type":"none","data":{}})");
  EXPECT_EQ(enc(data{true}), R"({"@data-type":"boolean","data":true})");
  EXPECT_EQ(enc(data{false}), R"({"@data-type":"boolean","data":false})");
  EXPECT_EQ(enc(data{count{0}}), R"({"@data-type":"count","data":0})");
  EXPECT_EQ(enc(data{count{uint64_max}}),
            R"({"@data-type":"count","data":18446744073709551615})");
  EXPECT_EQ(enc(data{integer{-1}}), R"({"@data-type":"integer","data":-1})");
  EXPECT_EQ(enc(data{integer{int64_min}}),
            R"({"@data-type":"integer","data":-9223372036854775808})");
  EXPECT_EQ(enc(data{integer{int64_max}}),
            R"({"@data-type":"integer","data":9223372036854775807})");
  EXPECT_EQ(enc(data{"hi"}), R"({"@data-type":"string","data":"hi"})");
  EXPECT_EQ(enc(data{enum_value{"Demo::HIGH"}}),
            R"({"@data-type":"enum-value","data":"Demo::HIGH"})");
}

TEST(JsonValueCodec, EncodesRealsShortestWithPointOrExponent) {
  struct row {
    double x;
    const char* text;
  };
  for (auto [x, text] : {
         row{1.5, "1.5"},
         row{5.0, "5.0"},
         row{-7.5, "-7.5"},
         row{1e-7, "1e-07"},
         row{0.1, "0.1"},
         row{1e300, "1e+300"},
         row{0.0, "0.0"},
         row{-0.0, "-0.0"},
         row{123456789012.0, "123456789012.0"},
         row{1e21, "1e+21"},
         row{0.75, "0.75"},
         row{5e-324, "5e-324"},
         row{std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
         row{std::numeric_limits<double>::infinity(), "Infinity"},
         row{-std::numeric_limits<double>::infinity(), "-Infinity"},
         row{std::numeric_limits<double>::quiet_NaN(), "NaN"},
         row{-std::numeric_limits<double>::quiet_NaN(), "NaN"},
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(enc(data{x}), obj("real", text));
  }
}

TEST(JsonValueCodec, RealsRoundTripBitForBit) {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double x;
    std::memcpy(&x, &bits, sizeof(x));
    if (std::isnan(x))
      continue;
    auto text = enc(data{x});
    auto back = json::decode(text);
    ASSERT_TRUE(back) << text;
    ASSERT_TRUE(back->is<real>());
    uint64_t back_bits;
    std::memcpy(&back_bits, &back->get<real>(), sizeof(back_bits));
    ASSERT_EQ(back_bits, bits) << text;
    // The payload always reads as a float in Python: '.' or 'e' (or a
    // non-finite token).
    auto payload = text.substr(text.find("\"data\":") + 7);
    ASSERT_NE(payload.find_first_of(".eIN"), std::string::npos) << text;
  }
}

TEST(JsonValueCodec, EscapesStrings) {
  auto str = [](std::string_view x) {
    std::string result;
    json::encode_string(x, result);
    return result;
  };
  EXPECT_EQ(str(""), R"("")");
  EXPECT_EQ(
    str("tab\there \"quoted\" back\\slash /slash\nnewline\rcr\bbs\fff"),
    R"("tab\there \"quoted\" back\\slash /slash\nnewline\rcr\bbs\fff")");
  // Other control characters and DEL as \u00XX, lowercase; \v is not JSON.
  EXPECT_EQ(str("\x01\x0b\x1f\x7f"), R"("\u0001\u000b\u001f\u007f")");
  EXPECT_EQ(str(std::string_view{"a\0b", 3}), R"("a\u0000b")");
  EXPECT_EQ(str("\x1b[0m"), R"("\u001b[0m")");
  // Valid UTF-8 stays raw, up to U+10FFFF.
  EXPECT_EQ(str("h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac"),
            "\"h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\"");
  EXPECT_EQ(str("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
            "\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
  // Each byte of an invalid sequence becomes its Latin-1 code point.
  EXPECT_EQ(str(std::string_view{"\xff\xfe\x00" "abc\x80", 7}),
            R"("\u00ff\u00fe\u0000abc\u0080")");
  EXPECT_EQ(str("\xc0\xaf"), R"("\u00c0\u00af")");             // overlong
  EXPECT_EQ(str("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");   // surrogate
  EXPECT_EQ(str("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")");
  EXPECT_EQ(str("\xe2\x9c"), R"("\u00e2\u009c")");             // truncated
  EXPECT_EQ(str("\xe2\x9cX\xe2\x9c\x93"), "\"\\u00e2\\u009cX\xe2\x9c\x93\"");
  EXPECT_EQ(str("\xc3"), R"("\u00c3")");
  // Enum names get the same treatment.
  EXPECT_EQ(enc(data{enum_value{"a\"\xff"}}),
            R"({"@data-type":"enum-value","data":"a\"\u00ff"})");
}

TEST(JsonValueCodec, EscapedOutputIsAlwaysValidUtf8Json) {
  std::mt19937 rng{3};
  for (int i = 0; i < 5000; ++i) {
    std::string x(rng() % 24, '\0');
    for (auto& c : x)
      c = static_cast<char>(rng());
    auto text = enc(data{x});
    ASSERT_TRUE(valid_utf8(text));
    auto back = json::decode(text);
    ASSERT_TRUE(back) << back.error().to_string();
    // Lossless exactly when the input was valid UTF-8 (§4.4).
    if (valid_utf8(x)) {
      ASSERT_EQ(*back, data{x});
    }
  }
}

TEST(JsonValueCodec, EncodesAddressesSubnetsPorts) {
  EXPECT_EQ(enc(addr("192.0.2.1")),
            R"({"@data-type":"address","data":"192.0.2.1"})");
  EXPECT_EQ(enc(addr("::ffff:192.0.2.1")),
            R"({"@data-type":"address","data":"192.0.2.1"})");
  EXPECT_EQ(enc(addr("2001:db8:0:0:1:0:0:1")),
            R"({"@data-type":"address","data":"2001:db8::1:0:0:1"})");
  EXPECT_EQ(enc(addr("::")), R"({"@data-type":"address","data":"::"})");
  EXPECT_EQ(enc(net("192.0.2.77/24")),
            R"({"@data-type":"subnet","data":"192.0.2.0/24"})");
  EXPECT_EQ(enc(net("2001:db8::ff/32")),
            R"({"@data-type":"subnet","data":"2001:db8::/32"})");
  EXPECT_EQ(enc(net("0.0.0.0/0")),
            R"({"@data-type":"subnet","data":"0.0.0.0/0"})");
  EXPECT_EQ(enc(tcp(443)), R"({"@data-type":"port","data":"443/tcp"})");
  EXPECT_EQ(enc(udp(53)), R"({"@data-type":"port","data":"53/udp"})");
  EXPECT_EQ(enc(icmp(8)), R"({"@data-type":"port","data":"8/icmp"})");
  EXPECT_EQ(enc(unknown_port(0)), R"({"@data-type":"port","data":"0/?"})");
  EXPECT_EQ(enc(tcp(65535)), R"({"@data-type":"port","data":"65535/tcp"})");
}

TEST(JsonValueCodec, EncodesTimestampsWithFlooredMilliseconds) {
  struct row {
    int64_t ns;
    const char* text;
  };
  for (auto [ns, text] : {
         row{0, "1970-01-01T00:00:00.000"},
         row{1700000000123456789, "2023-11-14T22:13:20.123"},
         row{1700000000000000000, "2023-11-14T22:13:20.000"},
         row{1700000000999999999, "2023-11-14T22:13:20.999"},
         row{1736933400250000000, "2025-01-15T09:30:00.250"},
         row{951782400000000000, "2000-02-29T00:00:00.000"},
         // Before the epoch, flooring moves to the earlier millisecond
         // (the reference prints -1.5 s as ...59.000).
         row{-1500000000, "1969-12-31T23:59:58.500"},
         row{-1, "1969-12-31T23:59:59.999"},
         row{-1000000, "1969-12-31T23:59:59.999"},
         row{-1000001, "1969-12-31T23:59:59.998"},
         row{-86400000000000, "1969-12-31T00:00:00.000"},
         row{int64_min, "1677-09-21T00:12:43.145"},
         row{int64_max, "2262-04-11T23:47:16.854"},
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(enc(data{ts(ns)}), obj("timestamp", "\""s + text + '"'));
  }
}

TEST(JsonValueCodec, EncodesTimespansInTheCoarsestExactUnit) {
  struct row {
    int64_t ns;
    const char* text;
  };
  for (auto [ns, text] : {
         row{0, "0s"},
         row{1500000000, "1500ms"},
         row{60000000000, "60s"},
         row{7000, "7us"},
         row{1234, "1234ns"},
         row{-2000000000, "-2s"},
         row{-250000, "-250us"},
         row{1, "1ns"},
         row{86400000000000, "86400s"},
         row{int64_min, "-9223372036854775808ns"},
         row{int64_max, "9223372036854775807ns"},
         row{-9223372036000000000, "-9223372036s"},
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(enc(data{timespan{ns}}), obj("timespan", "\""s + text + '"'));
  }
}

TEST(JsonValueCodec, EncodesContainersInValueOrder) {
  EXPECT_EQ(enc(data{vector{}}), R"({"@data-type":"vector","data":[]})");
  EXPECT_EQ(enc(data{set{}}), R"({"@data-type":"set","data":[]})");
  EXPECT_EQ(enc(data{table{}}), R"({"@data-type":"table","data":[]})");
  EXPECT_EQ(enc(data{vector{data{1}, data{"two"}, data{3.0}}}),
            R"({"@data-type":"vector","data":[{"@data-type":"integer",)"
            R"("data":1},{"@data-type":"string","data":"two"},)"
            R"({"@data-type":"real","data":3.0}]})");
  // Type first (boolean < count < integer < string), then value.
  EXPECT_EQ(enc(data{set{data{"b"}, data{2}, data{count{7}}, data{true},
                         data{"a"}}}),
            R"({"@data-type":"set","data":[{"@data-type":"boolean",)"
            R"("data":true},{"@data-type":"count","data":7},)"
            R"({"@data-type":"integer","data":2},{"@data-type":"string",)"
            R"("data":"a"},{"@data-type":"string","data":"b"}]})");
  EXPECT_EQ(enc(data{table{{data{"web-3"}, data{2.5}},
                           {data{"db-1"}, data{0.75}}}}),
            R"({"@data-type":"table","data":[{"key":{"@data-type":"string",)"
            R"("data":"db-1"},"value":{"@data-type":"real","data":0.75}},)"
            R"({"key":{"@data-type":"string","data":"web-3"},"value":)"
            R"({"@data-type":"real","data":2.5}}]})");
}

TEST(JsonValueCodec, EncodesMembersForMessages) {
  std::string out = "{\"type\":\"data-message\",\"topic\":";
  json::encode_string("/a\"b", out);
  out += ',';
  json::encode_members(data{count{42}}, out);
  out += '}';
  EXPECT_EQ(out, R"({"type":"data-message","topic":"/a\"b",)"
                 R"("@data-type":"count","data":42})");
  // encode() appends rather than replacing.
  std::string buf = "x";
  json::encode(data{}, buf);
  EXPECT_EQ(buf, R"(x{"@data-type":"none","data":{}})");
}

// -- decoding -----------------------------------------------------------------

TEST(JsonValueCodec, RoundTripsEveryType) {
  auto x = rich_value();
  auto text = enc(x);
  EXPECT_TRUE(valid_utf8(text));
  EXPECT_TRUE(decodes_to(text, x));
  for (auto& elem : x.get<vector>()) {
    SCOPED_TRACE(to_string(elem.get_type()));
    EXPECT_TRUE(decodes_to(enc(elem), elem));
  }
}

TEST(JsonValueCodec, DecodesNone) {
  EXPECT_TRUE(decodes_to(R"({"@data-type":"none","data":{}})", data{}));
  EXPECT_TRUE(decodes_to(R"({"@data-type":"none"})", data{}));
  EXPECT_TRUE(decodes_to(R"({"@data-type":"none","data":null})", data{}));
  EXPECT_TRUE(decodes_to(R"({"@data-type":"none","data":5})", data{}));
  EXPECT_TRUE(decodes_to(R"({"@data-type":"none","data":[1,{"x":[]}]})",
                         data{}));
}

TEST(JsonValueCodec, DecodesBooleansOnlyFromJsonBooleans) {
  EXPECT_TRUE(decodes_to(obj("boolean", "true"), data{true}));
  EXPECT_TRUE(decodes_to(obj("boolean", "false"), data{false}));
  for (auto bad : {R"("true")", "1", "0", "null", "[]", "{}"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("boolean", bad)));
  }
}

TEST(JsonValueCodec, DecodesCountsInRangeFromIntegerLiterals) {
  EXPECT_TRUE(decodes_to(obj("count", "0"), data{count{0}}));
  EXPECT_TRUE(decodes_to(obj("count", "-0"), data{count{0}}));
  EXPECT_TRUE(decodes_to(obj("count", "18446744073709551615"),
                         data{count{uint64_max}}));
  // Exact, not via a double (2^64-2 is not representable as one).
  EXPECT_TRUE(decodes_to(obj("count", "18446744073709551614"),
                         data{count{uint64_max - 1}}));
  for (auto bad : {"-1", "18446744073709551616", "99999999999999999999999",
                   "1.0", "1e3", "1E0", "NaN", "Infinity", R"("1")", "true",
                   "null", "[1]"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("count", bad)));
  }
  EXPECT_TRUE(rejects(obj("count", std::string(5000, '7'))));
  EXPECT_NE(error_of(obj("count", "1.0")).find("integer literal"),
            std::string::npos);
  EXPECT_NE(error_of(obj("count", "-1")).find("out of range"),
            std::string::npos);
  // A huge literal is shortened in the message.
  EXPECT_LT(error_of(obj("count", std::string(5000, '7'))).size(), 200u);
}

TEST(JsonValueCodec, DecodesIntegersInRangeFromIntegerLiterals) {
  EXPECT_TRUE(decodes_to(obj("integer", "-1"), data{integer{-1}}));
  EXPECT_TRUE(decodes_to(obj("integer", "5"), data{integer{5}}));
  EXPECT_TRUE(decodes_to(obj("integer", "-9223372036854775808"),
                         data{integer{int64_min}}));
  EXPECT_TRUE(decodes_to(obj("integer", "9223372036854775807"),
                         data{integer{int64_max}}));
  for (auto bad : {"9223372036854775808", "-9223372036854775809",
                   "18446744073709551615", "1.0", "-2e1", "NaN", R"("5")",
                   "false"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("integer", bad)));
  }
  // The tag decides the type, never the sign or size.
  EXPECT_TRUE(decodes_to(obj("count", "5"), data{count{5}}));
  EXPECT_TRUE(decodes_to(obj("integer", "5"), data{integer{5}}));
}

TEST(JsonValueCodec, DecodesRealsWithDocumentedLeniencies) {
  EXPECT_TRUE(decodes_to(obj("real", "5.0"), data{5.0}));
  EXPECT_TRUE(decodes_to(obj("real", "5e0"), data{5.0}));
  EXPECT_TRUE(decodes_to(obj("real", "-7.5"), data{-7.5}));
  EXPECT_TRUE(decodes_to(obj("real", "1e-07"), data{1e-7}));
  EXPECT_TRUE(decodes_to(obj("real", "0.000000"), data{0.0}));
  // Leniencies (§4.3): bare integers and the non-finite tokens.
  EXPECT_TRUE(decodes_to(obj("real", "5"), data{5.0}));
  EXPECT_TRUE(decodes_to(obj("real", "-12"), data{-12.0}));
  EXPECT_TRUE(decodes_to(obj("real", "18446744073709551616"), data{0x1p64}));
  EXPECT_TRUE(decodes_to(obj("real", "Infinity"),
                         data{std::numeric_limits<double>::infinity()}));
  EXPECT_TRUE(decodes_to(obj("real", "-Infinity"),
                         data{-std::numeric_limits<double>::infinity()}));
  auto nan = json::decode(obj("real", "NaN"));
  ASSERT_TRUE(nan);
  ASSERT_TRUE(nan->is<real>());
  EXPECT_TRUE(std::isnan(nan->get<real>()));
  auto neg_zero = json::decode(obj("real", "-0.0"));
  ASSERT_TRUE(neg_zero);
  EXPECT_TRUE(std::signbit(neg_zero->get<real>()));
  // Underflow rounds to zero, overflow is an error rather than infinity.
  EXPECT_TRUE(decodes_to(obj("real", "1e-400"), data{0.0}));
  EXPECT_TRUE(rejects(obj("real", "1e400")));
  EXPECT_TRUE(rejects(obj("real", "-" + std::string(400, '9'))));
  for (auto bad : {R"("1.5")", R"("NaN")", "true", "null", "[1.5]"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("real", bad)));
  }
  // Tokens in the wrong case are not JSON at all.
  EXPECT_TRUE(rejects(obj("real", "nan"), ec::invalid_json));
  EXPECT_TRUE(rejects(obj("real", "inf"), ec::invalid_json));
  EXPECT_TRUE(rejects(obj("real", "-inf"), ec::invalid_json));
}

TEST(JsonValueCodec, DecodesStrings) {
  EXPECT_TRUE(decodes_to(obj("string", R"("")"), data{""}));
  EXPECT_TRUE(decodes_to(obj("string", R"("a\/b \u00e9 \ud83d\ude00 \t\n")"),
                         data{"a/b \xc3\xa9 \xf0\x9f\x98\x80 \t\n"}));
  EXPECT_TRUE(decodes_to(obj("string", R"("\u0000")"),
                         data{std::string{"\0", 1}}));
  EXPECT_TRUE(decodes_to(obj("enum-value", R"("Demo::HIGH")"),
                         data{enum_value{"Demo::HIGH"}}));
  EXPECT_TRUE(decodes_to(obj("enum-value", R"("")"), data{enum_value{""}}));
  for (auto tag : {"string", "enum-value"}) {
    for (auto bad : {"1", "true", "null", "[]", "{}"}) {
      SCOPED_TRACE(std::string{tag} + " " + bad);
      EXPECT_TRUE(rejects(obj(tag, bad)));
    }
  }
  EXPECT_TRUE(rejects(obj("string", R"("\x")"), ec::invalid_json));
  EXPECT_TRUE(rejects(obj("string", "\"\xff\""), ec::invalid_json));
  EXPECT_TRUE(rejects(obj("string", R"("\ud83d")"), ec::invalid_json));
}

TEST(JsonValueCodec, DecodesAddresses) {
  EXPECT_TRUE(decodes_to(obj("address", R"("192.0.2.1")"), addr("192.0.2.1")));
  EXPECT_TRUE(decodes_to(obj("address", R"("2001:DB8::1")"),
                         addr("2001:db8::1")));
  EXPECT_TRUE(decodes_to(obj("address", R"("::ffff:192.0.2.1")"),
                         addr("192.0.2.1")));
  EXPECT_TRUE(decodes_to(obj("address", R"("2001:db8:0:0:1:0:0:1")"),
                         addr("2001:db8::1:0:0:1")));
  EXPECT_TRUE(decodes_to(obj("address", R"("::")"), addr("::")));
  for (auto bad : {R"("300.1.2.3")", R"("1.2.3")", R"("1.2.3.4.5")", R"("")",
                   R"("localhost")", R"("fe80::1%eth0")", R"("1.2.3.4/8")",
                   R"(" 1.2.3.4")", R"("2001:db8:::1")",
                   R"("1234567890123456789012345678901234567890123456789")",
                   "1", "null", "[]"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("address", bad)));
  }
  EXPECT_NE(error_of(obj("address", R"("300.1.2.3")")).find("300.1.2.3"),
            std::string::npos);
}

TEST(JsonValueCodec, DecodesSubnets) {
  EXPECT_TRUE(decodes_to(obj("subnet", R"("10.0.0.0/8")"), net("10.0.0.0/8")));
  // Host bits are cleared.
  auto sn = json::decode(obj("subnet", R"("192.0.2.77/24")"));
  ASSERT_TRUE(sn);
  EXPECT_EQ(sn->get<subnet>().to_string(), "192.0.2.0/24");
  EXPECT_TRUE(decodes_to(obj("subnet", R"("2001:db8::ff/32")"),
                         net("2001:db8::/32")));
  EXPECT_TRUE(decodes_to(obj("subnet", R"("1.2.3.4/32")"), net("1.2.3.4/32")));
  EXPECT_TRUE(decodes_to(obj("subnet", R"("0.0.0.0/0")"), net("0.0.0.0/0")));
  EXPECT_TRUE(decodes_to(obj("subnet", R"("::1/128")"), net("::1/128")));
  EXPECT_TRUE(decodes_to(obj("subnet", R"("::/0")"), net("::/0")));
  // Lengths beyond the family's maximum are invalid (the reference turned
  // them into ::/0).
  for (auto bad : {R"("10.0.0.0/33")", R"("::/129")",
                   R"("10.0.0.0/4294967296")",
                   R"("10.0.0.0/-1")", R"("10.0.0.0/+8")", R"("10.0.0.0/")",
                   R"("10.0.0.0/ 8")", R"("10.0.0.0/8x")", R"("10.0.0.0")",
                   R"("/8")", R"("300.0.0.0/8")", R"("")", "8", "null"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("subnet", bad)));
  }
  EXPECT_NE(error_of(obj("subnet", R"("10.0.0.0/33")")).find("exceeds 32"),
            std::string::npos);
  EXPECT_NE(error_of(obj("subnet", R"("::/129")")).find("exceeds 128"),
            std::string::npos);
}

TEST(JsonValueCodec, DecodesPorts) {
  EXPECT_TRUE(decodes_to(obj("port", R"("443/tcp")"), tcp(443)));
  EXPECT_TRUE(decodes_to(obj("port", R"("53/udp")"), udp(53)));
  EXPECT_TRUE(decodes_to(obj("port", R"("8/icmp")"), icmp(8)));
  EXPECT_TRUE(decodes_to(obj("port", R"("0/?")"), unknown_port(0)));
  EXPECT_TRUE(decodes_to(obj("port", R"("65535/udp")"), udp(65535)));
  // A bare number is TCP; unknown protocol names map to unknown.
  EXPECT_TRUE(decodes_to(obj("port", R"("80")"), tcp(80)));
  EXPECT_TRUE(decodes_to(obj("port", R"("53/foo")"), unknown_port(53)));
  EXPECT_TRUE(decodes_to(obj("port", R"("53/TCP")"), unknown_port(53)));
  EXPECT_TRUE(decodes_to(obj("port", R"("53/")"), unknown_port(53)));
  // Numbers above 65535 are invalid (the reference truncated them).
  for (auto bad : {R"("70000/tcp")", R"("65536")", R"("99999999999/tcp")",
                   R"("/tcp")", R"("-1/tcp")", R"("+1/tcp")", R"(" 80/tcp")",
                   R"("8o/tcp")", R"("")", "80", "null"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("port", bad)));
  }
}

TEST(JsonValueCodec, DecodesTimestamps) {
  // 2025-01-15T09:30:00Z
  constexpr int64_t base = 1736933400000000000;
  struct row {
    const char* text;
    int64_t ns;
  };
  for (auto [text, ns] : {
         row{"2025-01-15T09:30:00", base},
         row{"2025-01-15T09:30:00Z", base},
         row{"2025-01-15T09:30:00.25", base + 250000000},
         row{"2025-01-15T09:30:00.2", base + 200000000},
         row{"2025-01-15T09:30:00.123456+00:00", base + 123456000},
         // Full nanosecond precision (the reference went through a double).
         row{"2025-01-15T09:30:00.123456789", base + 123456789},
         row{"2025-01-15T09:30:00.000000001Z", base + 1},
         row{"2025-01-15T10:30:00+01:00", base},
         row{"2025-01-15T10:30:00+01", base},
         row{"2025-01-15T10:30:00+0100", base},
         row{"2025-01-15T04:00:00-05:30", base},
         row{"2025-01-15T09:30:00-00:00", base},
         row{"2025-01-15T09:30:00.5+23:59", base + 500000000 - 86340000000000},
         row{"1970-01-01T00:00:00", 0},
         row{"1969-12-31T23:59:58.5", -1500000000},
         row{"1969-12-31T23:59:59.999999999", -1},
         row{"2000-02-29T00:00:00", 951782400000000000},
         row{"2023-11-14T22:13:20.123", 1700000000123000000},
         // The ends of the int64 range.
         row{"1677-09-21T00:12:43.145224192", int64_min},
         row{"1677-09-21T00:12:43.145224192Z", int64_min},
         row{"2262-04-11T23:47:16.854775807", int64_max},
       }) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(decodes_to(obj("timestamp", "\""s + text + '"'),
                           data{ts(ns)}));
  }
  for (auto bad : {
         "2025-01-15", "2025-01-15 09:30:00", "2025-01-15t09:30:00",
         "2025-01-15T09:30:00z", "2025-01-15T09:30", "2025-1-15T09:30:00",
         "25-01-15T09:30:00", "2025-01-15T09:30:00.",
         "2025-01-15T09:30:00.1234567890", "2025-01-15T09:30:00,5",
         "2025-01-15T09:30:00+1", "2025-01-15T09:30:00+01:0",
         "2025-01-15T09:30:00+01:", "2025-01-15T09:30:00+0100x",
         "2025-01-15T09:30:00+24:00", "2025-01-15T09:30:00+01:60",
         "2025-01-15T09:30:00Zx", "2025-01-15T09:30:00 ",
         " 2025-01-15T09:30:00", "2025-02-29T00:00:00", "2025-13-01T00:00:00",
         "2025-00-01T00:00:00", "2025-01-32T00:00:00", "2025-01-00T00:00:00",
         "2025-01-15T24:00:00", "2025-01-15T09:60:00", "2025-01-15T09:30:60",
         "+025-01-15T09:30:00", "2025-01-15T09:30:00.-1",
         // Outside what int64 nanoseconds can hold.
         "1677-09-21T00:12:43.145224191", "2262-04-11T23:47:16.854775808",
         "1500-01-01T00:00:00", "9999-12-31T23:59:59", "0000-01-01T00:00:00",
         ""}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("timestamp", "\""s + bad + '"')));
  }
  EXPECT_TRUE(rejects(obj("timestamp", "1736933400")));
  EXPECT_NE(error_of(obj("timestamp", R"("2262-04-11T23:47:16.854775808")"))
              .find("out of range"),
            std::string::npos);
  EXPECT_NE(error_of(obj("timestamp", R"("2025-02-29T00:00:00")"))
              .find("no such date"),
            std::string::npos);
}

TEST(JsonValueCodec, TimestampOutputReadsBackToTheMillisecond) {
  std::mt19937_64 rng{11};
  for (int i = 0; i < 5000; ++i) {
    auto ns = static_cast<int64_t>(rng());
    auto back = json::decode(enc(data{ts(ns)}));
    ASSERT_TRUE(back) << ns;
    // Output floors to milliseconds, so reading it back floors too.
    auto want = std::chrono::floor<std::chrono::milliseconds>(ts(ns));
    ASSERT_EQ(back->get<timestamp>(), timestamp{want}) << ns;
  }
}

TEST(JsonValueCodec, DecodesTimespans) {
  struct row {
    const char* text;
    int64_t ns;
  };
  for (auto [text, ns] : {
         row{"0s", 0},
         row{"0ns", 0},
         row{"-0s", 0},
         row{"1.5s", 1500000000},
         row{"1500000000.0ns", 1500000000},
         row{"1500ms", 1500000000},
         row{"7us", 7000},
         row{"1234ns", 1234},
         row{"2min", 120000000000},
         row{"1h", 3600000000000},
         row{"1.5h", 5400000000000},
         row{"-3ms", -3000000},
         row{"+5s", 5000000000},
         row{"0.3s", 300000000},
         row{"0.1ms", 100000},
         row{"2.5ns", 3}, // to the nearest nanosecond
         row{"0.4ns", 0},
         // 'd' is our leniency (§4.8).
         row{"1d", 86400000000000},
         row{"0.5d", 43200000000000},
         row{"-9223372036854775808ns", int64_min},
         row{"106751d", 106751 * 86400000000000},
       }) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(decodes_to(obj("timespan", "\""s + text + '"'),
                           data{timespan{ns}}));
  }
  for (auto bad : {"5", "s", "-s", "5 s", " 5s", "5s ", "5sec", "5S", "5m",
                   "5y", "5w", "1e3s", "1.s", ".5s", "1..5s", "--5s", "+-5s",
                   "5ss", "5msx", "0x10s", "NaNs", "infs", "",
                   // Beyond int64 nanoseconds.
                   "9223372036854775808ns", "-9223372036854775809ns",
                   "106752d", "300000000000000h", "9223372036854775807.0ns",
                   "18446744073709551616ns", "99999999999999999999999s"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("timespan", "\""s + bad + '"')));
  }
  EXPECT_TRUE(rejects(obj("timespan", "5")));
  EXPECT_TRUE(rejects(obj("timespan", "\"" + std::string(400, '9') + "s\"")));
  EXPECT_TRUE(decodes_to(obj("timespan", "\"0." + std::string(400, '0')
                                           + "1s\""),
                         data{timespan{0}}));
  // Integer counts are exact (no double involved), so every output form
  // reads back exactly, even beyond 2^53 ns.
  EXPECT_TRUE(decodes_to(obj("timespan", R"("9007199254740993ns")"),
                         data{timespan{9007199254740993}}));
  EXPECT_TRUE(decodes_to(obj("timespan", R"("9223372036854775807ns")"),
                         data{timespan{int64_max}}));
  EXPECT_TRUE(decodes_to(obj("timespan", R"("-9223372036s")"),
                         data{timespan{-9223372036000000000}}));
  EXPECT_TRUE(decodes_to(obj("timespan", R"("106751d")"),
                         data{timespan{106751 * 86400000000000}}));
  std::mt19937_64 rng{5};
  for (int i = 0; i < 5000; ++i) {
    auto bits = rng();
    auto ns = static_cast<int64_t>(bits);
    for (int64_t unit : {1, 1000, 1000000, 1000000000}) {
      auto x = ns / unit * unit;
      ASSERT_TRUE(decodes_to(enc(data{timespan{x}}), data{timespan{x}}));
    }
  }
}

TEST(JsonValueCodec, DecodesContainers) {
  EXPECT_TRUE(decodes_to(obj("vector", "[]"), data{vector{}}));
  EXPECT_TRUE(decodes_to(obj("set", "[]"), data{set{}}));
  EXPECT_TRUE(decodes_to(obj("table", "[]"), data{table{}}));
  EXPECT_TRUE(decodes_to(
    obj("vector", "[" + obj("count", "1") + "," + obj("count", "1") + "]"),
    data{vector{data{count{1}}, data{count{1}}}}));
  // Set duplicates collapse (the reference rejected them).
  EXPECT_TRUE(decodes_to(obj("set", "[" + obj("count", "1") + ","
                                      + obj("count", "2") + ","
                                      + obj("count", "1") + "]"),
                         data{set{data{count{1}}, data{count{2}}}}));
  // Input order is free; output is sorted.
  auto sorted = json::decode(obj("set", "[" + obj("string", R"("b")") + ","
                                          + obj("string", R"("a")") + "]"));
  ASSERT_TRUE(sorted);
  EXPECT_EQ(enc(*sorted), obj("set", "[" + obj("string", R"("a")") + ","
                                       + obj("string", R"("b")") + "]"));
  auto entry = [](const std::string& k, const std::string& v) {
    return R"({"key":)" + k + R"(,"value":)" + v + "}";
  };
  EXPECT_TRUE(decodes_to(
    obj("table", "[" + entry(obj("string", R"("b")"), obj("count", "2")) + ","
                   + entry(obj("string", R"("a")"), obj("count", "1")) + "]"),
    data{table{{data{"a"}, data{count{1}}}, {data{"b"}, data{count{2}}}}}));
  // Member order inside entries is free and extra members are ignored.
  EXPECT_TRUE(decodes_to(
    obj("table", R"([{"value":{"@data-type":"none"},"x":1,)"
                 R"("key":{"@data-type":"count","data":3}}])"),
    data{table{{data{count{3}}, data{}}}}));
  // The same key under different types is two keys.
  EXPECT_TRUE(decodes_to(
    obj("table", "[" + entry(obj("count", "1"), obj("none", "{}")) + ","
                   + entry(obj("integer", "1"), obj("none", "{}")) + "]"),
    data{table{{data{count{1}}, data{}}, {data{integer{1}}, data{}}}}));
  // A repeated key is an error, even with the same value.
  auto repeated = obj("table", "[" + entry(obj("string", R"("a")"),
                                           obj("count", "1"))
                                 + ","
                                 + entry(obj("string", R"("a")"),
                                         obj("count", "1"))
                                 + "]");
  EXPECT_TRUE(rejects(repeated));
  EXPECT_NE(error_of(repeated).find("repeated table key"), std::string::npos);
  // Sets and tables as set elements and table keys.
  auto nested = data{table{
    {data{set{data{1}, data{2}}}, data{table{{data{"x"}, data{count{5}}}}}},
    {data{vector{addr("10.0.0.1"), tcp(80)}}, data{"web"}}}};
  EXPECT_TRUE(decodes_to(enc(nested), nested));
}

TEST(JsonValueCodec, RejectsMalformedContainers) {
  for (auto tag : {"vector", "set", "table"}) {
    for (auto bad : {"{}", "1", R"("[]")", "null", "true"}) {
      SCOPED_TRACE(std::string{tag} + " " + bad);
      EXPECT_TRUE(rejects(obj(tag, bad)));
    }
  }
  for (auto bad : {
         "[1]",                            // not a value object
         "[null]",
         "[[]]",
         R"([{"data":1}])",                // no @data-type
         R"([{"@data-type":"count"}])",    // no data
         R"([{"@data-type":"count","data":-1}])",
         R"([{"@data-type":"foo","data":1}])",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("vector", bad)));
    EXPECT_TRUE(rejects(obj("set", bad)));
  }
  for (auto bad : {
         R"([{"key":{"@data-type":"string","data":"a"}}])",
         R"([{"value":{"@data-type":"string","data":"a"}}])",
         R"([{}])",
         R"([[{"@data-type":"none"},{"@data-type":"none"}]])",
         R"([{"@data-type":"none"}])",
         R"([1])",
         R"([{"key":1,"value":{"@data-type":"none"}}])",
         R"([{"key":{"@data-type":"none"},"value":"x"}])",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(obj("table", bad)));
  }
  // The message says where the problem is.
  auto bad_table = obj("table", R"([{"key":{"@data-type":"count",)"
                                R"("data":1.5},"value":{"@data-type":)"
                                R"("none"}}])");
  auto text = obj("vector", "[" + obj("none", "{}") + "," + bad_table + "]");
  auto msg = error_of(text);
  EXPECT_NE(msg.find("$.data[1].data[0].key.data"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1.5"), std::string::npos) << msg;
  EXPECT_NE(error_of(obj("table", R"([{"key":{"@data-type":"none"}}])"))
              .find("without \"value\""),
            std::string::npos);
}

TEST(JsonValueCodec, RejectsBadValueObjects) {
  EXPECT_TRUE(rejects(R"({"data":1})"));
  EXPECT_TRUE(rejects(R"({})"));
  EXPECT_TRUE(rejects(R"({"@data-type":1,"data":1})"));
  EXPECT_TRUE(rejects(R"({"@data-type":null,"data":1})"));
  EXPECT_TRUE(rejects(R"({"@data-type":"foo","data":1})"));
  EXPECT_TRUE(rejects(R"({"@data-type":"Count","data":1})"));
  EXPECT_TRUE(rejects(R"({"@data-type":"enum_value","data":"x"})"));
  EXPECT_TRUE(rejects(R"({"@data-type":"","data":1})"));
  EXPECT_TRUE(rejects(R"({"@data-type":"count"})"));
  EXPECT_TRUE(rejects(R"({"@data-type":"vector"})"));
  EXPECT_TRUE(rejects(R"({"type":"count","data":1})"));
  EXPECT_TRUE(rejects("[1,2,3]"));
  EXPECT_TRUE(rejects(R"("just a string")"));
  EXPECT_TRUE(rejects("42"));
  EXPECT_TRUE(rejects("null"));
  EXPECT_NE(error_of(R"({"data":1})").find("missing \"@data-type\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"@data-type":"foo","data":1})").find("\"foo\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"@data-type":"count"})").find("missing \"data\""),
            std::string::npos);
  EXPECT_NE(error_of("[1]").find("got array"), std::string::npos);
  // Unknown members are ignored; member order and whitespace are free; a
  // repeated member resolves to its last occurrence.
  EXPECT_TRUE(decodes_to(R"( { "data" : 3 , "x" : [1] , "@data-type" : )"
                         R"("count" , "topic" : "/t" } )",
                         data{count{3}}));
  EXPECT_TRUE(decodes_to(R"({"@data-type":"string","@data-type":"count",)"
                         R"("data":3})",
                         data{count{3}}));
}

TEST(JsonValueCodec, RejectsMalformedJson) {
  for (auto bad : {"", "hello", "{", R"({"@data-type":"count","data":})",
                   R"({"@data-type":"count","data":1)",
                   R"({"@data-type":"count","data":01})",
                   R"({"@data-type":"count","data":1}})",
                   R"({"@data-type":"count" "data":1})",
                   R"({'@data-type':'count','data':1})",
                   R"({"@data-type":"string","data":"\q"})",
                   R"({"@data-type":"string","data":"\u00G0"})",
                   R"({"@data-type":"real","data":NaN0})",
                   R"({"@data-type":"real","data":+1.0})"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(rejects(bad, ec::invalid_json));
  }
  auto text = enc(rich_value());
  for (size_t n = 0; n < text.size(); ++n)
    ASSERT_TRUE(rejects(std::string_view{text}.substr(0, n), ec::invalid_json))
      << n;
}

TEST(JsonValueCodec, LimitsNestingDepth) {
  // Each vector level takes two JSON levels (object and array).
  auto nested_vectors = [](int n) {
    data x{vector{}};
    for (int i = 1; i < n; ++i)
      x = data{vector{x}};
    return x;
  };
  EXPECT_TRUE(decodes_to(enc(nested_vectors(50)), nested_vectors(50)));
  EXPECT_TRUE(rejects(enc(nested_vectors(51)), ec::invalid_json));
  // Tables take three per level (object, array, entry object).
  data tbl{table{}};
  for (int i = 0; i < 40; ++i)
    tbl = data{table{{data{count{1}}, tbl}}};
  EXPECT_TRUE(rejects(enc(tbl), ec::invalid_json));
  json::decode_limits small{5};
  EXPECT_TRUE(json::decode(enc(nested_vectors(2)), small));
  EXPECT_FALSE(json::decode(enc(nested_vectors(3)), small));
  // 10000 levels: an error, not a stack overflow.
  std::string deep;
  for (int i = 0; i < 10000; ++i)
    deep += R"({"@data-type":"vector","data":[)";
  EXPECT_TRUE(rejects(deep, ec::invalid_json));
  for (int i = 0; i < 10000; ++i)
    deep += "]}";
  EXPECT_TRUE(rejects(deep, ec::invalid_json));
  std::string deep_none = R"({"@data-type":"none","data":)"
                          + std::string(10000, '[') + std::string(10000, ']')
                          + "}";
  EXPECT_TRUE(rejects(deep_none, ec::invalid_json));
}

TEST(JsonValueCodec, DecodesDocumentsAndLimitsHandBuiltOnes) {
  // A whole data message decodes as a value: topic and type are ignored.
  auto doc = json::parse(R"({"type":"data-message","topic":"/t",)"
                         R"("@data-type":"port","data":"22/tcp"})");
  ASSERT_TRUE(doc);
  auto x = json::decode(*doc);
  ASSERT_TRUE(x);
  EXPECT_EQ(*x, tcp(22));
  // A document built in code deeper than the limit is refused by the
  // decoder itself, with a data error rather than a JSON one.
  json::value deep = json::value::make_array({});
  for (int i = 0; i < 300; ++i) {
    json::value::object_type members;
    members.push_back({"@data-type", json::value::make_string("vector")});
    members.push_back({"data", deep});
    deep = json::value::make_array({json::value::make_object(members)});
  }
  json::value::object_type top;
  top.push_back({"@data-type", json::value::make_string("vector")});
  top.push_back({"data", deep});
  auto result = json::decode(json::value::make_object(top));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ec::deserialization_failed);
  EXPECT_NE(result.error().message().find("nesting"), std::string::npos);
  EXPECT_FALSE(json::decode(json::value{}));
}

TEST(JsonValueCodec, SurvivesRandomMutations) {
  auto seed = enc(rich_value());
  std::mt19937 rng{1234};
  const char alphabet[] = "{}[]\":,\\0123456789eE.+-/?Tstd \x80";
  size_t accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    auto text = seed;
    auto edits = 1 + rng() % 3;
    for (unsigned i = 0; i < edits; ++i) {
      auto pos = rng() % text.size();
      auto c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
        case 0:
          text[pos] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<ptrdiff_t>(pos), c);
          break;
        default:
          text.erase(pos, 1);
      }
    }
    auto x = json::decode(text);
    if (!x) {
      ASSERT_TRUE(x.error().code() == ec::invalid_json
                  || x.error().code() == ec::deserialization_failed);
      continue;
    }
    ++accepted;
    // Whatever we accept, we can print, and printing is a fixed point.
    auto out = enc(*x);
    ASSERT_TRUE(valid_utf8(out));
    auto again = json::decode(out);
    ASSERT_TRUE(again) << out << ": " << again.error().to_string();
    ASSERT_EQ(enc(*again), out);
  }
  EXPECT_GT(accepted, 0u);
}

// -- golden: what Broker's WebSocket server sent ------------------------------

namespace {

// What E2 published on each topic (the file's `steps`), and for values
// where §4 says our output differs from the reference, what we print.
struct server_case {
  data value;
  std::string ours = {}; // empty: identical to the golden text
};

std::map<std::string, server_case> server_cases() {
  using std::string;
  auto s = [](const char* x) { return data{x}; };
  auto c = [](uint64_t x) { return data{count{x}}; };
  auto i = [](int64_t x) { return data{integer{x}}; };
  auto r = [](const char* payload) { return obj("real", payload); };
  auto inf = std::numeric_limits<double>::infinity();
  return {
    {"/ws/values/none", {data{}}},
    {"/ws/values/bool-true", {data{true}}},
    {"/ws/values/bool-false", {data{false}}},
    {"/ws/values/count-zero", {c(0)}},
    {"/ws/values/count-max", {c(uint64_max)}},
    {"/ws/values/integer-minus-one", {i(-1)}},
    {"/ws/values/integer-min", {i(int64_min)}},
    {"/ws/values/integer-max", {i(int64_max)}},
    // §4.3: shortest round-trip reals instead of %f.
    {"/ws/values/real-1.5", {data{1.5}, r("1.5")}},
    {"/ws/values/real-5.0", {data{5.0}, r("5.0")}},
    {"/ws/values/real-minus-7.5", {data{-7.5}, r("-7.5")}},
    {"/ws/values/real-1e-7", {data{1e-7}, r("1e-07")}},
    {"/ws/values/real-0.1", {data{0.1}, r("0.1")}},
    {"/ws/values/real-1e300", {data{1e300}, r("1e+300")}},
    {"/ws/values/real-minus-zero", {data{-0.0}, r("-0.0")}},
    // §4.3: JSON-compatible tokens instead of inf/nan.
    {"/ws/values/real-inf", {data{inf}, r("Infinity")}},
    {"/ws/values/real-minus-inf", {data{-inf}, r("-Infinity")}},
    {"/ws/values/real-nan",
     {data{std::numeric_limits<double>::quiet_NaN()}, r("NaN")}},
    {"/ws/values/string-empty", {s("")}},
    {"/ws/values/string-utf8",
     {s("h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac")}},
    {"/ws/values/string-escapes",
     {s("tab\there \"quoted\" back\\slash /slash\nnewline\rcr\bbs\fff")}},
    // §4.4: \u00XX instead of raw control characters and \v.
    {"/ws/values/string-control-chars",
     {s("\x01\x0b\x1f\x7f"), obj("string", R"("\u0001\u000b\u001f\u007f")")}},
    // §4.4: invalid UTF-8 bytes as \u00XX instead of raw.
    {"/ws/values/string-non-utf8-bytes",
     {data{string{"\xff\xfe\x00" "abc\x80", 7}},
      obj("string", R"("\u00ff\u00fe\u0000abc\u0080")")}},
    {"/ws/values/address-v4", {addr("192.0.2.1")}},
    {"/ws/values/address-v6", {addr("2001:db8::1")}},
    {"/ws/values/address-v6-full", {addr("2001:db8:0:0:1:0:0:1")}},
    {"/ws/values/address-v4-mapped-v6", {addr("::ffff:192.0.2.1")}},
    {"/ws/values/subnet-v4", {net("10.0.0.0/8")}},
    {"/ws/values/subnet-v6", {net("2001:db8::/32")}},
    {"/ws/values/subnet-v4-host-bits", {net("192.0.2.77/24")}},
    {"/ws/values/port-tcp", {tcp(443)}},
    {"/ws/values/port-udp", {udp(53)}},
    {"/ws/values/port-icmp", {icmp(8)}},
    {"/ws/values/port-unknown", {unknown_port(0)}},
    {"/ws/values/timestamp", {data{ts(1700000000123456789)}}},
    {"/ws/values/timestamp-whole-second", {data{ts(1700000000000000000)}}},
    // §4.7 / appendix 10: the reference printed -1.5 s as ...59.000.
    {"/ws/values/timestamp-pre-epoch",
     {data{ts(-1500000000)},
      obj("timestamp", R"("1969-12-31T23:59:58.500")")}},
    {"/ws/values/timespan-zero", {data{timespan{0}}}},
    {"/ws/values/timespan-1.5s", {data{timespan{1500000000}}}},
    {"/ws/values/timespan-60s", {data{timespan{60000000000}}}},
    {"/ws/values/timespan-7us", {data{timespan{7000}}}},
    {"/ws/values/timespan-1234ns", {data{timespan{1234}}}},
    {"/ws/values/timespan-minus-2s", {data{timespan{-2000000000}}}},
    {"/ws/values/timespan-minus-250us", {data{timespan{-250000}}}},
    {"/ws/values/enum", {data{enum_value{"Notice::ACTION_LOG"}}}},
    {"/ws/values/set", {data{set{c(3), c(1), c(2)}}}},
    {"/ws/values/set-mixed-types",
     {data{set{s("b"), i(2), c(7), data{true}, s("a")}}}},
    {"/ws/values/table",
     {data{table{{s("web-3"), data{2.5}}, {s("db-1"), data{0.75}}}},
      obj("table", R"([{"key":{"@data-type":"string","data":"db-1"},)"
                   R"("value":{"@data-type":"real","data":0.75}},)"
                   R"({"key":{"@data-type":"string","data":"web-3"},)"
                   R"("value":{"@data-type":"real","data":2.5}}])")}},
    {"/ws/values/vector",
     {data{vector{i(1), s("two"), data{3.0}}},
      obj("vector", R"([{"@data-type":"integer","data":1},)"
                    R"({"@data-type":"string","data":"two"},)"
                    R"({"@data-type":"real","data":3.0}])")}},
    {"/ws/values/set-empty", {data{set{}}}},
    {"/ws/values/table-empty", {data{table{}}}},
    {"/ws/values/vector-empty", {data{vector{}}}},
    {"/ws/values/nested",
     {data{table{{s("k"), data{vector{data{set{i(1), i(2)}},
                                      data{table{{s("x"), c(5)}}},
                                      data{}}}}}}}},
    {"/ws/values/set-of-tables",
     {data{set{data{table{{s("a"), i(1)}}}, data{table{{s("b"), i(2)}}}}}}},
    {"/ws/values/table-vector-keys",
     {data{table{{data{vector{addr("10.0.0.1"), tcp(80)}}, s("web")}}}}},
    {"/ws/zeek/event",
     {data{vector{c(1), c(1),
                  data{vector{s("ping"), data{vector{s("hi"), c(7)}}}}}}}},
    {"/ws/zeek/event-metadata",
     {data{vector{
       c(1), c(1),
       data{vector{
         s("demo_alert"),
         data{vector{addr("198.51.100.23"), tcp(22),
                     data{timespan{1500000000}},
                     data{set{s("brute-force"), s("external")}},
                     data{vector{data{ts(1736933398004000000)}, data{}}}}},
         data{vector{data{vector{c(1), data{ts(1736933400250000000)}}},
                     data{vector{c(200), s("user-value")}}}}}}}}}},
    {"/ws/zeek/event-noargs",
     {data{vector{c(1), c(1), data{vector{s("no_args"), data{vector{}}}}}}}},
    {"/ws/values/local", {c(42)}},
  };
}

// Drops precision below a millisecond from every timestamp in `x`, which is
// what a JSON round trip does (§4.7).
data floor_timestamps(const data& x) {
  if (auto t = x.get_if<timestamp>())
    return data{timestamp{std::chrono::floor<std::chrono::milliseconds>(*t)}};
  if (auto xs = x.get_if<vector>()) {
    vector result;
    for (auto& y : *xs)
      result.push_back(floor_timestamps(y));
    return data{std::move(result)};
  }
  if (auto xs = x.get_if<set>()) {
    set result;
    for (auto& y : *xs)
      result.insert(floor_timestamps(y));
    return data{std::move(result)};
  }
  if (auto xs = x.get_if<table>()) {
    table result;
    for (auto& [k, v] : *xs)
      result.emplace(floor_timestamps(k), floor_timestamps(v));
    return data{std::move(result)};
  }
  return x;
}

} // namespace

TEST(JsonGolden, ServerOutputMatchesExceptWhereDocumented) {
  auto doc = test::load_golden("websocket-server-output.json");
  auto cases = server_cases();
  const std::string prefix = R"({"type":"data-message","topic":)";
  size_t seen = 0;
  size_t differing = 0;
  for (auto& frame : doc["frames"]) {
    if (frame.value("dir", "") != "server->client"
        || frame.value("opcode", "") != "text")
      continue;
    std::string text;
    if (frame.contains("text"))
      text = frame["text"].get<std::string>();
    else {
      auto bytes = test::unhex(frame["hex"].get<std::string>());
      text.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    if (text.rfind(prefix, 0) != 0)
      continue; // the ack
    auto topic_end = text.find("\",\"@data-type\"");
    ASSERT_NE(topic_end, std::string::npos) << text;
    auto topic = text.substr(prefix.size() + 1, topic_end - prefix.size() - 1);
    SCOPED_TRACE(topic);
    auto i = cases.find(topic);
    ASSERT_NE(i, cases.end()) << "no expectation for " << topic;
    ++seen;
    auto& [value, ours] = i->second;
    auto golden_value = "{" + text.substr(topic_end + 2);
    auto our_value = enc(value);
    if (ours.empty()) {
      EXPECT_EQ(our_value, golden_value);
      EXPECT_EQ(prefix + '"' + topic + "\"," + our_value.substr(1), text);
    } else {
      ++differing;
      EXPECT_EQ(our_value, ours);
      EXPECT_NE(our_value, golden_value);
    }
    // The whole message as the WebSocket layer will build it.
    std::string message = prefix;
    json::encode_string(topic, message);
    message += ',';
    json::encode_members(value, message);
    message += '}';
    EXPECT_EQ(message, prefix + '"' + topic + "\"," + our_value.substr(1));
    // Our output is always valid JSON in valid UTF-8 and reads back to the
    // published value (timestamps to the millisecond).
    EXPECT_TRUE(valid_utf8(our_value));
    if (topic == "/ws/values/string-non-utf8-bytes") {
      // Lossy by design: each bad byte comes back as its Latin-1 code
      // point in UTF-8 (§4.4).
      auto latin1 = std::string{"\xc3\xbf\xc3\xbe\x00" "abc\xc2\x80", 10};
      EXPECT_TRUE(decodes_to(our_value, data{latin1}));
    } else {
      EXPECT_TRUE(decodes_to(our_value, floor_timestamps(value)));
    }
    // Where the reference output is valid JSON, we read it as well. Its %f
    // reals and pre-epoch timestamps are lossy, so we only compare where
    // it printed the same text as we do, or an equivalent real.
    auto golden_decoded = json::decode(golden_value);
    if (!json::parse(golden_value)) {
      // nan/inf tokens, raw control characters, raw non-UTF-8 bytes.
      EXPECT_FALSE(ours.empty());
      continue;
    }
    ASSERT_TRUE(golden_decoded) << golden_decoded.error().to_string();
    if (topic == "/ws/values/real-1e-7") {
      EXPECT_EQ(*golden_decoded, data{0.0}); // %f lost it
    } else if (topic == "/ws/values/timestamp-pre-epoch") {
      EXPECT_EQ(*golden_decoded, data{ts(-1000000000)}); // reference bug
    } else {
      EXPECT_EQ(*golden_decoded, floor_timestamps(value))
        << show(*golden_decoded);
    }
  }
  EXPECT_EQ(seen, cases.size());
  EXPECT_EQ(differing, 15u);
}

// -- golden: what Broker's WebSocket server accepted --------------------------

namespace {

enum class verdict { accept, reject };

// Our expectation for one client input: the value we produce, or a
// rejection. `deviates` marks a documented difference to the reference.
struct client_case {
  verdict ours;
  data value = {};
  bool deviates = false;
  ec code = ec::deserialization_failed;
};

client_case accept(data x, bool deviates = false) {
  return {verdict::accept, std::move(x), deviates};
}

client_case reject(bool deviates = false,
                   ec code = ec::deserialization_failed) {
  return {verdict::reject, data{}, deviates, code};
}

std::map<std::string, client_case> client_cases() {
  constexpr int64_t base = 1736933400000000000; // 2025-01-15T09:30:00Z
  auto inf = std::numeric_limits<double>::infinity();
  return {
    {"count-max", accept(data{count{uint64_max}})},
    {"integer-min", accept(data{integer{int64_min}})},
    {"keys-alphabetical", accept(data{count{3}})},
    {"no-type-key", accept(data{"x"})},
    {"type-other", accept(data{"x"})},
    {"extra-member", accept(data{"x"})},
    {"none-with-data", accept(data{})},
    {"none-without-data", accept(data{})},
    {"real-5.0", accept(data{5.0})},
    {"real-5e0", accept(data{5.0})},
    // §4.3 leniencies.
    {"real-bare-integer", accept(data{5.0}, true)},
    {"real-NaN-token",
     accept(data{std::numeric_limits<double>::quiet_NaN()}, true)},
    {"real-Infinity-token", accept(data{-inf}, true)},
    {"count-negative", reject()},
    {"count-too-big", reject()},
    {"count-fraction", reject()},
    {"integer-too-big", reject()},
    {"boolean-as-string", reject()},
    // The reference turned \/ into '?' (appendix 9); we do not.
    {"string-escapes",
     accept(data{"a/b \xc3\xa9 \xf0\x9f\x98\x80 \t\n"}, true)},
    {"address-v6-upper", accept(addr("2001:db8::1"))},
    {"address-v4-mapped", accept(addr("192.0.2.1"))},
    // The reference crashed its handler; we reject.
    {"address-bad", reject()},
    {"subnet-host-bits", accept(net("192.0.2.0/24"))},
    // §4.5 / §4.6: stricter than the reference.
    {"subnet-v4-len-33", reject(true)},
    {"port-bare-number", accept(tcp(80))},
    {"port-unknown", accept(unknown_port(0))},
    {"port-icmp", accept(icmp(8))},
    {"port-bad-proto", accept(unknown_port(53))},
    {"port-too-big", reject(true)},
    {"timestamp-no-fraction", accept(data{ts(base)})},
    // Full nanosecond precision where the reference used a double.
    {"timestamp-2-digits", accept(data{ts(base + 250000000)}, true)},
    {"timestamp-9-digits", accept(data{ts(base + 123456789)}, true)},
    {"timestamp-offset-0", accept(data{ts(base + 123456000)})},
    {"timestamp-offset-1h", accept(data{ts(base)})},
    {"timestamp-Z", accept(data{ts(base)})},
    {"timespan-1.5s", accept(data{timespan{1500000000}})},
    {"timespan-float-ns", accept(data{timespan{1500000000}})},
    {"timespan-7us", accept(data{timespan{7000}})},
    {"timespan-2min", accept(data{timespan{120000000000}})},
    {"timespan-1h", accept(data{timespan{3600000000000}})},
    // §4.8 leniency.
    {"timespan-1d", accept(data{timespan{86400000000000}}, true)},
    {"timespan-minus-3ms", accept(data{timespan{-3000000}})},
    {"enum-value", accept(data{enum_value{"Demo::HIGH"}})},
    // §4.1: duplicates collapse.
    {"set-duplicates", accept(data{set{data{count{1}}}}, true)},
    {"table-repeated-key", reject()},
    {"table-entry-no-value", reject()},
    {"vector-bad-element", reject()},
    {"event-zeekpy-style",
     accept(data{vector{
       data{count{1}}, data{count{1}},
       data{vector{data{"set_threshold"},
                   data{vector{data{enum_value{"Demo::HIGH"}},
                               data{count{250}},
                               net("2001:db8:40::/48")}}}}}})},
    {"unknown-data-type", reject()},
    {"missing-data-type", reject()},
    // Dropped by the reference for their topic; the value itself is fine.
    {"missing-topic", accept(data{count{3}})},
    {"topic-not-string", accept(data{count{3}})},
    {"topic-empty", accept(data{count{3}})},
    {"topic-reserved", accept(data{count{3}})},
    {"not-json", reject(false, ec::invalid_json)},
    {"json-array", reject()},
    {"json-string", reject()},
    {"after-errors", accept(data{"still working"})},
  };
}

} // namespace

TEST(JsonGolden, ClientInputAcceptedAndRejectedLikeTheReference) {
  auto doc = test::load_golden("websocket-client-input.json");
  auto cases = client_cases();
  std::map<std::string, nlohmann::json> summary;
  for (auto& entry : doc["summary"])
    summary[entry["input"].get<std::string>()] = entry;
  // Which steps the server answered with an error or by closing.
  std::map<int, bool> step_rejected;
  for (auto& frame : doc["frames"]) {
    if (frame.value("dir", "") != "server->client" || !frame.contains("step"))
      continue;
    auto meaning = frame.value("meaning", "");
    if (meaning.rfind("error", 0) == 0 || meaning.rfind("close", 0) == 0)
      step_rejected[frame["step"].get<int>()] = true;
  }
  const std::regex input_name{"input '([^']+)'"};
  size_t seen = 0;
  for (auto& frame : doc["frames"]) {
    if (frame.value("dir", "") != "client->server"
        || frame.value("opcode", "") != "text"
        || frame.value("meaning", "") == "subscription")
      continue;
    auto step = frame["step"].get<int>();
    auto step_text = doc["steps"][step].get<std::string>();
    std::smatch match;
    ASSERT_TRUE(std::regex_search(step_text, match, input_name)) << step_text;
    auto name = match[1].str();
    SCOPED_TRACE(name);
    auto i = cases.find(name);
    ASSERT_NE(i, cases.end()) << "no expectation for " << name;
    ++seen;
    auto& want = i->second;
    auto text = frame["text"].get<std::string>();
    bool native_got = frame.contains("native_received")
                      && !frame["native_received"].is_null();
    bool ref_accepted = !step_rejected[step];
    // Our table agrees with the capture, except where §4 says otherwise.
    auto& entry = summary[name];
    if (!want.deviates) {
      EXPECT_EQ(want.ours == verdict::accept, ref_accepted);
    } else if ((want.ours == verdict::accept) == ref_accepted) {
      // Same verdict, so the difference must be in the value.
      ASSERT_TRUE(entry.contains("broker_to_string"));
      EXPECT_NE(to_string(want.value),
                entry["broker_to_string"].get<std::string>());
    }
    if (want.ours == verdict::accept && !want.deviates) {
      // Whatever reached the native side is what we produce.
      if (native_got && entry.contains("broker_to_string")) {
        auto ref = entry["broker_to_string"].get<std::string>();
        if (!want.value.is<real>()) {
          EXPECT_EQ(to_string(want.value), ref);
        } else {
          EXPECT_EQ(std::stod(ref), want.value.get<real>());
        }
      }
    }
    auto got = json::decode(text);
    if (want.ours == verdict::reject) {
      ASSERT_FALSE(got) << "accepted as " << show(*got);
      EXPECT_EQ(got.error().code(), want.code) << got.error().to_string();
      continue;
    }
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(*got, want.value) << show(*got);
    // The type matters, not just the text (count vs integer).
    EXPECT_EQ(got->get_type(), want.value.get_type());
  }
  EXPECT_EQ(seen, cases.size());
}

TEST(JsonValueCodec, EverythingAcceptedAtTheDepthLimitReEncodesAndDecodes) {
  // Found by fuzzing: a bare none (no "data") at JSON depth 100 encodes as
  // "data":{} at depth 101. The decoder must not accept what it cannot read
  // back.
  std::string s = R"({"@data-type":"table","data":[{"key":{"@data-type":)"
                  R"("count","data":1},"value":{"@data-type":"none"}}]})";
  for (int i = 0; i < 48; ++i)
    s = R"({"@data-type":"vector","data":[)" + s + "]}";
  auto first = broker::format::json::decode(s);
  if (first) {
    auto again = broker::format::json::decode(broker::format::json::encode(*first));
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(*again, *first);
  }
  // One vector level less fits.
  std::string t = R"({"@data-type":"none"})";
  for (int i = 0; i < 49; ++i)
    t = R"({"@data-type":"vector","data":[)" + t + "]}";
  auto ok = broker::format::json::decode(t);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_TRUE(broker::format::json::decode(broker::format::json::encode(*ok)));
}
