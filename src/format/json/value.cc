#include "format/json/value.hh"

#include "format/json/utf8.hh"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace broker::format::json {

std::string_view to_string(kind k) noexcept {
  switch (k) {
    case kind::null:
      return "null";
    case kind::boolean:
      return "boolean";
    case kind::number:
      return "number";
    case kind::string:
      return "string";
    case kind::array:
      return "array";
    case kind::object:
      return "object";
  }
  return "<invalid>";
}

// -- value --------------------------------------------------------------------

value value::make_boolean(bool x) {
  value result;
  result.kind_ = kind::boolean;
  result.bool_ = x;
  return result;
}

value value::make_number(std::string text, number_form form) {
  value result;
  result.kind_ = kind::number;
  result.form_ = form;
  result.text_ = std::move(text);
  return result;
}

value value::make_string(std::string str) {
  value result;
  result.kind_ = kind::string;
  result.text_ = std::move(str);
  return result;
}

value value::make_array(array_type items) {
  value result;
  result.kind_ = kind::array;
  result.items_ = std::move(items);
  return result;
}

value value::make_object(object_type members) {
  value result;
  result.kind_ = kind::object;
  result.members_ = std::move(members);
  return result;
}

const value* value::find(std::string_view key) const noexcept {
  for (auto i = members_.rbegin(); i != members_.rend(); ++i)
    if (i->key == key)
      return &i->val;
  return nullptr;
}

std::optional<uint64_t> value::to_uint64() const noexcept {
  if (kind_ != kind::number || form_ != number_form::integer)
    return std::nullopt;
  auto first = text_.data();
  auto last = first + text_.size();
  // The grammar allows `-0`, which is zero and thus in range; every other
  // negative literal is not.
  if (text_ == "-0")
    return 0;
  uint64_t result = 0;
  auto [ptr, err] = std::from_chars(first, last, result);
  if (err != std::errc{} || ptr != last)
    return std::nullopt;
  return result;
}

std::optional<int64_t> value::to_int64() const noexcept {
  if (kind_ != kind::number || form_ != number_form::integer)
    return std::nullopt;
  auto first = text_.data();
  auto last = first + text_.size();
  int64_t result = 0;
  auto [ptr, err] = std::from_chars(first, last, result);
  if (err != std::errc{} || ptr != last)
    return std::nullopt;
  return result;
}

namespace {

// Rough decimal magnitude of a valid JSON number literal that from_chars
// reported as out of range: positive means too large, otherwise too small.
// Only the sign matters, and out-of-range literals are hundreds of orders of
// magnitude away from 1, so saturating the exponent is harmless.
int64_t decimal_magnitude(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-')
    ++i;
  int64_t int_digits = 0; // significant digits before the point
  int64_t lead_zeros = 0; // zeros after the point before the first non-zero
  bool seen_nonzero = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (text[i] != '0')
      seen_nonzero = true;
    if (seen_nonzero)
      ++int_digits;
  }
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (text[i] != '0')
        seen_nonzero = true;
      else if (!seen_nonzero)
        ++lead_zeros;
    }
  }
  int64_t exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-'))
      neg = text[i++] == '-';
    for (; i < text.size(); ++i)
      if (exp < 1'000'000'000)
        exp = exp * 10 + (text[i] - '0');
    if (neg)
      exp = -exp;
  }
  return int_digits > 0 ? int_digits + exp : exp - lead_zeros;
}

} // namespace

std::optional<double> value::to_double() const noexcept {
  if (kind_ != kind::number)
    return std::nullopt;
  switch (form_) {
    case number_form::nan:
      return std::numeric_limits<double>::quiet_NaN();
    case number_form::infinity:
      return std::numeric_limits<double>::infinity();
    case number_form::negative_infinity:
      return -std::numeric_limits<double>::infinity();
    default:
      break;
  }
  auto first = text_.data();
  auto last = first + text_.size();
  double result = 0;
  auto [ptr, err] = std::from_chars(first, last, result);
  if (err == std::errc::result_out_of_range) {
    if (decimal_magnitude(text_) > 0)
      return std::nullopt;
    // Underflow: the nearest double is a zero of the literal's sign.
    return text_.front() == '-' ? -0.0 : 0.0;
  }
  if (err != std::errc{} || ptr != last)
    return std::nullopt;
  return result;
}

// -- parser -------------------------------------------------------------------

namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

class parser {
public:
  parser(std::string_view text, int max_depth)
    : text_(text), max_depth_(max_depth) {}

  expected<value> run() {
    skip_ws();
    value result;
    if (!parse_value(result, 0))
      return error_;
    skip_ws();
    if (pos_ != text_.size()) {
      fail("unexpected character after the JSON value");
      return error_;
    }
    return result;
  }

private:
  // Records the first error; the return value lets callers write
  // `return fail(...)`.
  bool fail(std::string_view what) {
    return fail_at(pos_, what);
  }

  bool fail_at(size_t offset, std::string_view what) {
    std::string msg = "malformed JSON at offset ";
    msg += std::to_string(offset);
    msg += ": ";
    msg += what;
    error_ = error{ec::invalid_json, std::move(msg)};
    return false;
  }

  bool at_end() const noexcept { return pos_ >= text_.size(); }

  char peek() const noexcept { return text_[pos_]; }

  void skip_ws() noexcept {
    while (!at_end()) {
      auto c = peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        return;
      ++pos_;
    }
  }

  bool consume_literal(std::string_view lit) {
    if (text_.substr(pos_, lit.size()) != lit)
      return false;
    pos_ += lit.size();
    return true;
  }

  bool parse_value(value& out, int depth) {
    if (at_end())
      return fail("unexpected end of input, expected a value");
    switch (peek()) {
      case '{':
        return parse_object(out, depth + 1);
      case '[':
        return parse_array(out, depth + 1);
      case '"': {
        std::string str;
        if (!parse_string(str))
          return false;
        out = value::make_string(std::move(str));
        return true;
      }
      case 't':
        if (!consume_literal("true"))
          return fail("invalid literal, expected 'true'");
        out = value::make_boolean(true);
        return true;
      case 'f':
        if (!consume_literal("false"))
          return fail("invalid literal, expected 'false'");
        out = value::make_boolean(false);
        return true;
      case 'n':
        if (!consume_literal("null"))
          return fail("invalid literal, expected 'null'");
        out = value{};
        return true;
      case 'N':
        if (!consume_literal("NaN"))
          return fail("invalid literal, expected 'NaN'");
        out = value::make_number("NaN", number_form::nan);
        return true;
      case 'I':
        if (!consume_literal("Infinity"))
          return fail("invalid literal, expected 'Infinity'");
        out = value::make_number("Infinity", number_form::infinity);
        return true;
      default:
        if (peek() == '-' || is_digit(peek()))
          return parse_number(out);
        return fail("unexpected character, expected a value");
    }
  }

  // Checked on entry to every container, so recursion depth is bounded by
  // max_depth no matter what the input looks like.
  bool enter(int depth) {
    if (depth > max_depth_)
      return fail("nesting deeper than " + std::to_string(max_depth_)
                  + " levels");
    return true;
  }

  bool parse_array(value& out, int depth) {
    if (!enter(depth))
      return false;
    ++pos_; // '['
    value::array_type items;
    skip_ws();
    if (!at_end() && peek() == ']') {
      ++pos_;
      out = value::make_array(std::move(items));
      return true;
    }
    for (;;) {
      skip_ws();
      items.emplace_back();
      if (!parse_value(items.back(), depth))
        return false;
      skip_ws();
      if (at_end())
        return fail("unexpected end of input in an array");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        break;
      }
      return fail("expected ',' or ']' in an array");
    }
    out = value::make_array(std::move(items));
    return true;
  }

  bool parse_object(value& out, int depth) {
    if (!enter(depth))
      return false;
    ++pos_; // '{'
    value::object_type members;
    members.reserve(4); // the API's messages have four keys, values two
    skip_ws();
    if (!at_end() && peek() == '}') {
      ++pos_;
      out = value::make_object(std::move(members));
      return true;
    }
    for (;;) {
      skip_ws();
      if (at_end())
        return fail("unexpected end of input in an object");
      if (peek() != '"')
        return fail("expected a string as object key");
      members.emplace_back();
      auto& mem = members.back();
      if (!parse_string(mem.key))
        return false;
      skip_ws();
      if (at_end() || peek() != ':')
        return fail("expected ':' after an object key");
      ++pos_;
      skip_ws();
      if (!parse_value(mem.val, depth))
        return false;
      skip_ws();
      if (at_end())
        return fail("unexpected end of input in an object");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        break;
      }
      return fail("expected ',' or '}' in an object");
    }
    out = value::make_object(std::move(members));
    return true;
  }

  // Validates the RFC 8259 number grammar and keeps the literal's text.
  bool parse_number(value& out) {
    auto start = pos_;
    if (peek() == '-') {
      ++pos_;
      if (!at_end() && peek() == 'I') {
        if (!consume_literal("Infinity"))
          return fail("invalid literal, expected '-Infinity'");
        out = value::make_number("-Infinity",
                                 number_form::negative_infinity);
        return true;
      }
    }
    if (at_end() || !is_digit(peek()))
      return fail("expected a digit in a number");
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && is_digit(peek()))
        return fail("leading zeros are not allowed in a number");
    } else {
      while (!at_end() && is_digit(peek()))
        ++pos_;
    }
    auto form = number_form::integer;
    if (!at_end() && peek() == '.') {
      ++pos_;
      form = number_form::decimal;
      if (at_end() || !is_digit(peek()))
        return fail("expected a digit after the decimal point");
      while (!at_end() && is_digit(peek()))
        ++pos_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      form = number_form::decimal;
      if (!at_end() && (peek() == '+' || peek() == '-'))
        ++pos_;
      if (at_end() || !is_digit(peek()))
        return fail("expected a digit in the exponent");
      while (!at_end() && is_digit(peek()))
        ++pos_;
    }
    out = value::make_number(std::string{text_.substr(start, pos_ - start)},
                             form);
    return true;
  }

  bool parse_hex4(uint32_t& result) {
    if (text_.size() - pos_ < 4)
      return fail("truncated \\u escape");
    result = 0;
    for (int i = 0; i < 4; ++i) {
      auto c = text_[pos_ + i];
      uint32_t digit;
      if (c >= '0' && c <= '9')
        digit = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        digit = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        digit = static_cast<uint32_t>(c - 'A' + 10);
      else
        return fail("invalid hex digit in a \\u escape");
      result = result * 16 + digit;
    }
    pos_ += 4;
    return true;
  }

  // Reads a \uXXXX escape (the backslash and 'u' already consumed),
  // combining a surrogate pair into one code point.
  bool parse_unicode_escape(std::string& out) {
    auto start = pos_ - 2;
    uint32_t cp = 0;
    if (!parse_hex4(cp))
      return false;
    if (cp >= 0xdc00 && cp <= 0xdfff)
      return fail_at(start, "unpaired low surrogate in a \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      // A lone surrogate has no UTF-8 form; storing it would create a
      // string our own encoder could not reproduce.
      if (text_.substr(pos_, 2) != "\\u")
        return fail_at(start, "unpaired high surrogate in a \\u escape");
      pos_ += 2;
      uint32_t low = 0;
      if (!parse_hex4(low))
        return false;
      if (low < 0xdc00 || low > 0xdfff)
        return fail_at(start, "unpaired high surrogate in a \\u escape");
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    append_utf8(out, cp);
    return true;
  }

  bool parse_string(std::string& out) {
    auto start = pos_;
    ++pos_; // opening quote
    for (;;) {
      if (at_end())
        return fail_at(start, "unterminated string");
      auto c = static_cast<uint8_t>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        ++pos_;
        if (at_end())
          return fail_at(start, "unterminated string");
        switch (peek()) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u':
            ++pos_;
            if (!parse_unicode_escape(out))
              return false;
            continue;
          default:
            return fail("invalid escape sequence in a string");
        }
        ++pos_;
        continue;
      }
      if (c < 0x20)
        return fail("unescaped control character in a string");
      auto len = utf8_sequence_length(text_, pos_);
      if (len == 0)
        return fail("invalid UTF-8 in a string");
      out.append(text_.data() + pos_, len);
      pos_ += len;
    }
  }

  std::string_view text_;
  int max_depth_;
  size_t pos_ = 0;
  error error_;
};

} // namespace

expected<value> parse(std::string_view text, int max_depth) {
  return parser{text, max_depth}.run();
}

} // namespace broker::format::json
