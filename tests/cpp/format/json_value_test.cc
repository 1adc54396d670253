// The JSON document parser under the WebSocket value codec: RFC 8259 plus
// the NaN/Infinity tokens, number literals kept as text, strict UTF-8, a
// nesting limit, and no crash on any input.
#include "format/json/value.hh"

#include "format/json/utf8.hh"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

using namespace broker;
using namespace broker::format;
using json::kind;
using json::number_form;

namespace {

json::value parse_ok(std::string_view text) {
  auto result = json::parse(text);
  EXPECT_TRUE(result) << "input: " << text << "\nerror: "
                      << result.error().to_string();
  return result ? *result : json::value{};
}

testing::AssertionResult malformed(std::string_view text, int depth = 100) {
  auto result = json::parse(text, depth);
  if (result)
    return testing::AssertionFailure() << "accepted: " << text;
  if (result.error().code() != ec::invalid_json)
    return testing::AssertionFailure()
           << "wrong code: " << result.error().to_string();
  if (result.error().message().find("offset") == std::string::npos)
    return testing::AssertionFailure()
           << "message lacks an offset: " << result.error().message();
  return testing::AssertionSuccess();
}

std::string parse_error(std::string_view text) {
  auto result = json::parse(text);
  return result ? std::string{"<accepted>"} : result.error().message();
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

} // namespace

TEST(JsonParser, Literals) {
  EXPECT_TRUE(parse_ok("null").is_null());
  auto t = parse_ok("true");
  ASSERT_TRUE(t.is_boolean());
  EXPECT_TRUE(t.as_boolean());
  auto f = parse_ok(" \t\r\n false \n");
  ASSERT_TRUE(f.is_boolean());
  EXPECT_FALSE(f.as_boolean());
  EXPECT_TRUE(malformed("nul"));
  EXPECT_TRUE(malformed("tru"));
  EXPECT_TRUE(malformed("True"));
  EXPECT_TRUE(malformed("nan"));
  EXPECT_TRUE(malformed("inf"));
  EXPECT_TRUE(malformed("-inf"));
  EXPECT_TRUE(malformed("-NaN"));
  EXPECT_TRUE(malformed("+Infinity"));
  EXPECT_TRUE(malformed("Infinit"));
  EXPECT_TRUE(malformed("truex"));
}

TEST(JsonParser, NumbersKeepTheirTextAndForm) {
  struct row {
    const char* text;
    number_form form;
  };
  for (auto [text, form] : {
         row{"0", number_form::integer},
         row{"-0", number_form::integer},
         row{"42", number_form::integer},
         row{"-17", number_form::integer},
         row{"18446744073709551615", number_form::integer},
         row{"123456789012345678901234567890", number_form::integer},
         row{"5.0", number_form::decimal},
         row{"5e0", number_form::decimal},
         row{"5E+3", number_form::decimal},
         row{"-1.25e-7", number_form::decimal},
         row{"0.000", number_form::decimal},
         row{"NaN", number_form::nan},
         row{"Infinity", number_form::infinity},
         row{"-Infinity", number_form::negative_infinity},
       }) {
    SCOPED_TRACE(text);
    auto x = parse_ok(text);
    ASSERT_TRUE(x.is_number());
    EXPECT_EQ(x.form(), form);
    EXPECT_EQ(x.text(), text);
  }
}

TEST(JsonParser, RejectsNumbersOutsideTheGrammar) {
  for (auto text : {"01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+",
                    "1E-", "1.e3", "--1", "0x10", "1_000", "1.5.2", "1e5e5",
                    "- 1"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(malformed(text));
  }
}

TEST(JsonParser, IntegerConversions) {
  EXPECT_EQ(parse_ok("0").to_uint64(), 0u);
  EXPECT_EQ(parse_ok("-0").to_uint64(), 0u);
  EXPECT_EQ(parse_ok("18446744073709551615").to_uint64(),
            std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(parse_ok("18446744073709551616").to_uint64());
  EXPECT_FALSE(parse_ok("99999999999999999999999999").to_uint64());
  EXPECT_FALSE(parse_ok("-1").to_uint64());
  EXPECT_FALSE(parse_ok("1.0").to_uint64());
  EXPECT_FALSE(parse_ok("1e0").to_uint64());
  EXPECT_FALSE(parse_ok("NaN").to_uint64());
  EXPECT_FALSE(parse_ok("\"1\"").to_uint64());
  EXPECT_EQ(parse_ok("-9223372036854775808").to_int64(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_ok("9223372036854775807").to_int64(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_ok("-0").to_int64(), 0);
  EXPECT_FALSE(parse_ok("9223372036854775808").to_int64());
  EXPECT_FALSE(parse_ok("-9223372036854775809").to_int64());
  EXPECT_FALSE(parse_ok("-1.5").to_int64());
  // An integer literal of 2^64-1 is exact, not rounded through a double.
  EXPECT_EQ(parse_ok("18446744073709551614").to_uint64(),
            18446744073709551614u);
}

TEST(JsonParser, DoubleConversions) {
  EXPECT_EQ(parse_ok("5").to_double(), 5.0);
  EXPECT_EQ(parse_ok("-7.5").to_double(), -7.5);
  EXPECT_EQ(parse_ok("1e-7").to_double(), 1e-7);
  EXPECT_EQ(parse_ok("0.1").to_double(), 0.1);
  EXPECT_EQ(parse_ok("1.7976931348623157e308").to_double(),
            std::numeric_limits<double>::max());
  EXPECT_EQ(parse_ok("5e-324").to_double(),
            std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(parse_ok("18446744073709551615").to_double(), 0x1p64);
  auto neg_zero = parse_ok("-0.0").to_double();
  ASSERT_TRUE(neg_zero);
  EXPECT_TRUE(std::signbit(*neg_zero));
  EXPECT_TRUE(std::isnan(*parse_ok("NaN").to_double()));
  EXPECT_EQ(parse_ok("Infinity").to_double(),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_ok("-Infinity").to_double(),
            -std::numeric_limits<double>::infinity());
  // Too large: no double; too small: a zero with the literal's sign.
  EXPECT_FALSE(parse_ok("1e309").to_double());
  EXPECT_FALSE(parse_ok("-1e99999999999999999999").to_double());
  EXPECT_FALSE(parse_ok(std::string(400, '9')).to_double());
  EXPECT_FALSE(parse_ok("0.0000001e400").to_double());
  EXPECT_EQ(parse_ok("1e-400").to_double(), 0.0);
  EXPECT_EQ(parse_ok("1000e-99999999999999999999").to_double(), 0.0);
  auto tiny = parse_ok("-0." + std::string(500, '0') + "1").to_double();
  ASSERT_TRUE(tiny);
  EXPECT_EQ(*tiny, 0.0);
  EXPECT_TRUE(std::signbit(*tiny));
  // Many significant digits still round correctly.
  EXPECT_EQ(parse_ok("0.1000000000000000055511151231257827021181583404541015"
                     "625")
              .to_double(),
            0.1);
  EXPECT_FALSE(parse_ok("true").to_double());
}

TEST(JsonParser, StringEscapes) {
  EXPECT_EQ(parse_ok(R"("")").text(), "");
  EXPECT_EQ(parse_ok(R"("a\"b\\c\/d\be\ff\ng\rh\ti")").text(),
            "a\"b\\c/d\be\ff\ng\rh\ti");
  EXPECT_EQ(parse_ok(R"("\u0041\u00e9\u2713\u0000")").text(),
            std::string("A\xc3\xa9\xe2\x9c\x93\0", 7));
  EXPECT_EQ(parse_ok(R"("\u00E9")").text(), "\xc3\xa9");
  // Surrogate pairs combine into one 4-byte sequence.
  EXPECT_EQ(parse_ok(R"("\ud83d\ude00")").text(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(parse_ok(R"("\uDBFF\uDFFF")").text(), "\xf4\x8f\xbf\xbf");
  // Raw UTF-8 passes through, including 0x7f which JSON allows raw.
  EXPECT_EQ(parse_ok("\"h\xc3\xa9llo \xf0\x9f\x98\x80\x7f\"").text(),
            "h\xc3\xa9llo \xf0\x9f\x98\x80\x7f");
}

TEST(JsonParser, RejectsBadStrings) {
  for (auto text : {
         R"("abc)",             // unterminated
         R"(")",                // unterminated
         R"("abc\)",            // backslash at the end
         R"("\x41")",           // unknown escape
         R"("\a")",             // unknown escape
         R"("\v")",             // not JSON, even though the reference emits it
         R"("\'")",             // unknown escape
         R"("\u12")",           // short \u
         R"("\u12G4")",         // bad hex digit
         R"("\u")",             // empty \u
         R"("\ud83d")",         // lone high surrogate
         R"("\ud83dx")",        // high surrogate, no escape after
         R"("\ud83d\u0041")",   // high surrogate, no low one
         R"("\ud83d\ud83d")",   // two high surrogates
         R"("\ude00")",         // lone low surrogate
         R"("\ude00\ud83d")",   // reversed pair
         "\"a\x01z\"",          // raw control character
         "\"a\nb\"",            // raw newline
         "\"a\tb\"",            // raw tab
         "\"\xff\"",            // not UTF-8
         "\"\xc3\"",            // truncated sequence
         "\"\xc3(\"",           // bad continuation
         "\"\xc0\xaf\"",        // overlong
         "\"\xe0\x80\xaf\"",    // overlong
         "\"\xed\xa0\x80\"",    // encoded surrogate
         "\"\xf4\x90\x80\x80\"",// beyond U+10FFFF
         "\"\xf8\x88\x80\x80\x80\"", // 5-byte form
         "'single'",            // wrong quotes
       }) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(malformed(text));
  }
  EXPECT_NE(parse_error(R"("\ud83d")").find("surrogate"), std::string::npos);
  EXPECT_NE(parse_error("\"\xff\"").find("UTF-8"), std::string::npos);
  EXPECT_NE(parse_error("\"a\x01\"").find("control character"),
            std::string::npos);
}

TEST(JsonParser, ArraysAndObjects) {
  auto arr = parse_ok(R"([1, "two", [], {}, null])");
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.items().size(), 5u);
  EXPECT_EQ(arr.items()[0].text(), "1");
  EXPECT_EQ(arr.items()[1].text(), "two");
  EXPECT_TRUE(arr.items()[2].is_array());
  EXPECT_TRUE(arr.items()[3].is_object());
  EXPECT_TRUE(arr.items()[4].is_null());
  auto obj = parse_ok(R"( { "b" : 1 , "a" : [ ] , "" : true } )");
  ASSERT_TRUE(obj.is_object());
  ASSERT_EQ(obj.members().size(), 3u);
  EXPECT_EQ(obj.members()[0].key, "b"); // input order is kept
  EXPECT_EQ(obj.members()[1].key, "a");
  EXPECT_EQ(obj.members()[2].key, "");
  ASSERT_NE(obj.find(""), nullptr);
  EXPECT_TRUE(obj.find("")->is_boolean());
  EXPECT_EQ(obj.find("missing"), nullptr);
  EXPECT_EQ(arr.find("b"), nullptr);
  EXPECT_EQ(parse_ok(R"({"k\u0041":1})").find("kA")->text(), "1");
  // A repeated key: the last one wins, as in JavaScript and Python.
  auto dup = parse_ok(R"({"k":1,"k":2})");
  EXPECT_EQ(dup.members().size(), 2u);
  EXPECT_EQ(dup.find("k")->text(), "2");
}

TEST(JsonParser, RejectsMalformedStructure) {
  for (auto text : {"", " ", "[", "]", "{", "}", "[1,]", "[,1]", "[1 2]",
                    "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{a:1}", "{1:1}",
                    "{\"a\":1,}", "{,}", "[1}", "{\"a\":1]", "1 2", "[] []",
                    "{}x", "hello", "\xef\xbb\xbf{}", "/* c */ 1",
                    "\"a\":1", "{\"a\":1 \"b\":2}"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(malformed(text));
  }
  // A NUL after the value is trailing garbage too.
  EXPECT_TRUE(malformed(std::string_view{"[1]\0", 4}));
  EXPECT_EQ(parse_error("[1,]"),
            "malformed JSON at offset 3: unexpected character, expected a "
            "value");
  EXPECT_EQ(parse_error("[1] x"),
            "malformed JSON at offset 4: unexpected character after the "
            "JSON value");
}

TEST(JsonParser, EveryTruncationIsAnError) {
  std::string doc = R"({"@data-type":"vector","data":[{"k":[1,-2.5e3,NaN,)"
                    R"(-Infinity,true,false,null,"\u00e9\ud83d\ude00\n"]}]})";
  ASSERT_TRUE(json::parse(doc));
  for (size_t n = 0; n < doc.size(); ++n) {
    auto prefix = std::string_view{doc}.substr(0, n);
    // A bare number prefix like "1" is a valid document; ours never is.
    EXPECT_TRUE(malformed(prefix)) << n;
  }
}

TEST(JsonParser, LimitsNesting) {
  auto nested = [](const char* open, const char* close, int n) {
    std::string result;
    for (int i = 0; i < n; ++i)
      result += open;
    // Objects need a value for their innermost member.
    if (open[0] == '{')
      result += '1';
    for (int i = 0; i < n; ++i)
      result += close;
    return result;
  };
  EXPECT_TRUE(json::parse(nested("[", "]", 100)));
  EXPECT_TRUE(malformed(nested("[", "]", 101)));
  EXPECT_TRUE(json::parse(nested("{\"a\":", "}", 100)));
  EXPECT_TRUE(malformed(nested("{\"a\":", "}", 101)));
  EXPECT_TRUE(json::parse(nested("[", "]", 5), 5));
  EXPECT_TRUE(malformed(nested("[", "]", 6), 5));
  EXPECT_TRUE(malformed("[]", 0));
  EXPECT_TRUE(json::parse("1", 0)); // scalars have no nesting
  EXPECT_NE(parse_error(nested("[", "]", 101)).find("nesting deeper than 100"),
            std::string::npos);
  // Far beyond the limit, closed or not: an error, never a stack overflow.
  EXPECT_TRUE(malformed(nested("[", "]", 10000)));
  EXPECT_TRUE(malformed(std::string(10000, '[')));
  EXPECT_TRUE(malformed(nested("{\"a\":", "}", 10000)));
  EXPECT_TRUE(malformed(std::string(1'000'000, '[')));
}

TEST(JsonParser, Utf8Validator) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("abc\x7f"));
  EXPECT_TRUE(valid_utf8("\xc2\x80\xdf\xbf"));
  EXPECT_TRUE(valid_utf8("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"));
  EXPECT_TRUE(valid_utf8("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
  for (auto bad : {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x41",
                   "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xe1\x80",
                   "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
                   "\xfe", "\xff"}) {
    SCOPED_TRACE(testing::PrintToString(std::string{bad}));
    EXPECT_FALSE(valid_utf8(bad));
  }
}

TEST(JsonParser, SurvivesRandomInput) {
  // Mutations of a valid document and plain random bytes: every outcome is
  // fine as long as there is an outcome (run under ASan/UBSan in CI).
  std::string seed = R"({"@data-type":"table","data":[{"key":{"@data-type":)"
                     R"("string","data":"a\u00e9"},"value":{"@data-type":)"
                     R"("real","data":-1.5e-3}}],"x":[NaN,Infinity,null]})";
  std::mt19937 rng{42};
  const char alphabet[] = "{}[]\":,\\u0123456789eE.+-aNIfnt \t\x80\xff";
  for (int round = 0; round < 20000; ++round) {
    auto text = seed;
    auto edits = 1 + rng() % 4;
    for (unsigned i = 0; i < edits; ++i) {
      auto pos = rng() % (text.size() + 1);
      auto c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
        case 0:
          if (pos < text.size())
            text[pos] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<ptrdiff_t>(pos), c);
          break;
        default:
          if (pos < text.size())
            text.erase(pos, 1 + rng() % 8);
      }
    }
    auto result = json::parse(text);
    if (!result) {
      EXPECT_EQ(result.error().code(), ec::invalid_json);
    }
  }
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 64, '\0');
    for (auto& c : text)
      c = static_cast<char>(rng());
    auto result = json::parse(text);
    if (!result) {
      EXPECT_EQ(result.error().code(), ec::invalid_json);
    }
  }
}
