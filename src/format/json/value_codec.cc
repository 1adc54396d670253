#include "format/json/value_codec.hh"

#include "format/json/time_text.hh"
#include "format/json/utf8.hh"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

namespace broker::format::json {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// -- encoding -----------------------------------------------------------------

void append_real(std::string& out, double x) {
  // JSON has no spelling for these; Python's json module reads and writes
  // these tokens, so they are the least surprising choice (§4.3).
  if (std::isnan(x)) {
    out += "NaN";
    return;
  }
  if (std::isinf(x)) {
    out += x < 0 ? "-Infinity" : "Infinity";
    return;
  }
  // The shortest text that reads back to the same double. A bare `5` would
  // reach Python clients as an int, so there is always a '.' or an 'e'.
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  std::string_view str{buf, static_cast<size_t>(res.ptr - buf)};
  out += str;
  if (str.find_first_of(".e") == std::string_view::npos)
    out += ".0";
}

struct encoder {
  std::string& out;

  void operator()(const none&) { out += "{}"; }
  void operator()(boolean x) { out += x ? "true" : "false"; }
  void operator()(count x) { append_int(out, x); }
  void operator()(integer x) { append_int(out, x); }
  void operator()(real x) { append_real(out, x); }
  void operator()(const std::string& x) { encode_string(x, out); }
  void operator()(const address& x) { quoted(x.to_string()); }
  void operator()(const subnet& x) { quoted(x.to_string()); }
  void operator()(const port& x) { quoted(x.to_string()); }
  void operator()(const timestamp& x) {
    out += '"';
    append_timestamp(out, x);
    out += '"';
  }
  void operator()(const timespan& x) {
    out += '"';
    append_timespan(out, x);
    out += '"';
  }
  void operator()(const enum_value& x) { encode_string(x.name, out); }
  void operator()(const set& xs) { list(xs); }
  void operator()(const vector& xs) { list(xs); }
  void operator()(const table& xs) {
    out += '[';
    bool first = true;
    for (auto& [k, v] : xs) {
      if (!first)
        out += ',';
      first = false;
      out += "{\"key\":";
      encode(k, out);
      out += ",\"value\":";
      encode(v, out);
      out += '}';
    }
    out += ']';
  }

  // For texts that never need escaping (addresses, subnets, ports).
  void quoted(const std::string& str) {
    out += '"';
    out += str;
    out += '"';
  }

  template <class Range>
  void list(const Range& xs) {
    out += '[';
    bool first = true;
    for (auto& x : xs) {
      if (!first)
        out += ',';
      first = false;
      encode(x, out);
    }
    out += ']';
  }
};

// -- decoding helpers ---------------------------------------------------------

// A piece of input for an error message: long texts are cut (at a UTF-8
// boundary) so that a huge literal does not produce a huge error.
std::string excerpt(std::string_view text) {
  constexpr size_t max_len = 64;
  if (text.size() <= max_len)
    return std::string{text};
  auto len = max_len;
  while (len > 0 && (static_cast<uint8_t>(text[len]) & 0xc0) == 0x80)
    --len;
  std::string result{text.substr(0, len)};
  result += "...";
  return result;
}

std::string quote(std::string_view text) {
  std::string result;
  encode_string(excerpt(text), result);
  return result;
}

// `<address>/<length>` with the length checked against the family (§4.5).
std::optional<subnet> parse_subnet(std::string_view str, std::string& why) {
  auto slash = str.rfind('/');
  if (slash == std::string_view::npos) {
    why = "a subnet needs the form <address>/<prefix length>";
    return std::nullopt;
  }
  auto addr = address::parse(str.substr(0, slash));
  if (!addr) {
    why = "invalid network address in subnet";
    return std::nullopt;
  }
  auto len_str = str.substr(slash + 1);
  unsigned len = 0;
  auto [ptr, err] = std::from_chars(len_str.data(),
                                    len_str.data() + len_str.size(), len);
  if (len_str.empty() || err != std::errc{}
      || ptr != len_str.data() + len_str.size()) {
    why = "invalid prefix length in subnet";
    return std::nullopt;
  }
  auto result = subnet::make(*addr, len);
  if (!result) {
    why = addr->is_v4() ? "prefix length exceeds 32 for an IPv4 subnet"
                        : "prefix length exceeds 128 for an IPv6 subnet";
    return std::nullopt;
  }
  return result;
}

std::optional<data_type> type_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(data_type::vector); ++i) {
    auto t = static_cast<data_type>(i);
    if (to_string(t) == name)
      return t;
  }
  return std::nullopt;
}

// -- decoder ------------------------------------------------------------------

class decoder {
public:
  explicit decoder(const decode_limits& limits) : limits_(limits) {}

  const error& err() const noexcept { return err_; }

  // `depth` is the JSON nesting of `in` (1 for a top-level object), counted
  // as the parser does, so that the limit means the same in both places and
  // hand-built documents cannot recurse without bound either.
  bool value_object(const value& in, data& out, int depth) {
    if (depth > limits_.max_depth)
      return fail("nesting deeper than " + std::to_string(limits_.max_depth)
                  + " levels");
    if (!in.is_object())
      return fail(std::string{"expected a value object "}
                  + "{\"@data-type\": ..., \"data\": ...}, got "
                  + std::string{to_string(in.type())});
    auto tag = in.find("@data-type");
    if (tag == nullptr)
      return fail("missing \"@data-type\"");
    if (!tag->is_string())
      return fail("\"@data-type\" must be a string, got "
                  + std::string{to_string(tag->type())});
    auto type = type_from_name(tag->text());
    if (!type)
      return fail("unknown @data-type " + quote(tag->text()));
    if (*type == data_type::none) {
      // Anything or nothing at all may stand for none's payload. Our encoder
      // writes "data":{}, one level deeper: keep the limit for that level
      // too, so that everything we accept we can also encode and re-read.
      if (depth + 1 > limits_.max_depth)
        return fail("nesting deeper than " + std::to_string(limits_.max_depth)
                    + " levels");
      out = data{};
      return true;
    }
    auto payload = in.find("data");
    if (payload == nullptr)
      return fail("missing \"data\" for @data-type \""
                  + std::string{to_string(*type)} + '"');
    path_scope scope{*this, ".data"};
    return payload_of(*type, *payload, out, depth + 1);
  }

private:
  // Appends a path segment for the lifetime of the scope.
  class path_scope {
  public:
    path_scope(decoder& dec, std::string_view segment)
      : dec_(dec), size_(dec.path_.size()) {
      dec_.path_ += segment;
    }
    ~path_scope() { dec_.path_.resize(size_); }
    path_scope(const path_scope&) = delete;
    path_scope& operator=(const path_scope&) = delete;

  private:
    decoder& dec_;
    size_t size_;
  };

  bool fail(std::string what) {
    what += " (at ";
    what += path_;
    what += ')';
    err_ = error{ec::deserialization_failed, std::move(what)};
    return false;
  }

  bool wrong_kind(const value& in, std::string_view expected_kind,
                  data_type t) {
    return fail("expected " + std::string{expected_kind} + " for @data-type \""
                + std::string{to_string(t)} + "\", got "
                + std::string{to_string(in.type())});
  }

  // `depth` is the JSON nesting of `in`.
  bool payload_of(data_type t, const value& in, data& out, int depth) {
    switch (t) {
      case data_type::none:
        out = data{};
        return true;
      case data_type::boolean:
        if (!in.is_boolean())
          return wrong_kind(in, "true or false", t);
        out = data{in.as_boolean()};
        return true;
      case data_type::count: {
        if (!in.is_number())
          return wrong_kind(in, "a number", t);
        if (in.form() != number_form::integer)
          return fail("a count must be an integer literal without fraction "
                      "or exponent, got "
                      + excerpt(in.text()));
        auto x = in.to_uint64();
        if (!x)
          return fail("count out of range 0 to 18446744073709551615: "
                      + excerpt(in.text()));
        out = data{count{*x}};
        return true;
      }
      case data_type::integer: {
        if (!in.is_number())
          return wrong_kind(in, "a number", t);
        if (in.form() != number_form::integer)
          return fail("an integer must be an integer literal without "
                      "fraction or exponent, got "
                      + excerpt(in.text()));
        auto x = in.to_int64();
        if (!x)
          return fail("integer out of range -9223372036854775808 to "
                      "9223372036854775807: "
                      + excerpt(in.text()));
        out = data{integer{*x}};
        return true;
      }
      case data_type::real: {
        // Bare integers and the NaN/Infinity tokens are accepted on
        // purpose (§4.3): JavaScript and Python clients produce them.
        if (!in.is_number())
          return wrong_kind(in, "a number", t);
        auto x = in.to_double();
        if (!x)
          return fail("real out of range: " + excerpt(in.text()));
        out = data{real{*x}};
        return true;
      }
      case data_type::string:
        if (!in.is_string())
          return wrong_kind(in, "a string", t);
        out = data{in.text()};
        return true;
      case data_type::address: {
        if (!in.is_string())
          return wrong_kind(in, "a string", t);
        auto x = address::parse(in.text());
        if (!x)
          return fail("invalid address " + quote(in.text()));
        out = data{*x};
        return true;
      }
      case data_type::subnet: {
        if (!in.is_string())
          return wrong_kind(in, "a string", t);
        std::string why;
        auto x = parse_subnet(in.text(), why);
        if (!x)
          return fail(why + ": " + quote(in.text()));
        out = data{*x};
        return true;
      }
      case data_type::port: {
        if (!in.is_string())
          return wrong_kind(in, "a string", t);
        auto x = port::parse(in.text());
        if (!x)
          return fail("invalid port " + quote(in.text())
                      + " (expected <0-65535>/<tcp|udp|icmp|?>)");
        out = data{*x};
        return true;
      }
      case data_type::timestamp: {
        if (!in.is_string())
          return wrong_kind(in, "a string", t);
        std::string why;
        auto x = parse_timestamp(in.text(), why);
        if (!x)
          return fail(why + ": " + quote(in.text()));
        out = data{*x};
        return true;
      }
      case data_type::timespan: {
        if (!in.is_string())
          return wrong_kind(in, "a string", t);
        std::string why;
        auto x = parse_timespan(in.text(), why);
        if (!x)
          return fail(why + ": " + quote(in.text()));
        out = data{*x};
        return true;
      }
      case data_type::enum_value:
        if (!in.is_string())
          return wrong_kind(in, "a string", t);
        out = data{enum_value{in.text()}};
        return true;
      case data_type::set:
        return set_payload(in, out, depth);
      case data_type::table:
        return table_payload(in, out, depth);
      case data_type::vector:
        return vector_payload(in, out, depth);
    }
    return fail("unknown @data-type");
  }

  bool enter_array(const value& in, data_type t, int depth) {
    if (depth > limits_.max_depth)
      return fail("nesting deeper than " + std::to_string(limits_.max_depth)
                  + " levels");
    if (!in.is_array())
      return wrong_kind(in, "an array", t);
    return true;
  }

  std::string index(size_t i) { return '[' + std::to_string(i) + ']'; }

  bool vector_payload(const value& in, data& out, int depth) {
    if (!enter_array(in, data_type::vector, depth))
      return false;
    vector xs;
    xs.reserve(in.items().size());
    for (size_t i = 0; i < in.items().size(); ++i) {
      path_scope scope{*this, index(i)};
      xs.emplace_back();
      if (!value_object(in.items()[i], xs.back(), depth + 1))
        return false;
    }
    out = data{std::move(xs)};
    return true;
  }

  bool set_payload(const value& in, data& out, int depth) {
    if (!enter_array(in, data_type::set, depth))
      return false;
    set xs;
    for (size_t i = 0; i < in.items().size(); ++i) {
      path_scope scope{*this, index(i)};
      data x;
      if (!value_object(in.items()[i], x, depth + 1))
        return false;
      // Duplicates collapse (§4.1): a set is what the client meant.
      xs.insert(std::move(x));
    }
    out = data{std::move(xs)};
    return true;
  }

  bool table_payload(const value& in, data& out, int depth) {
    if (!enter_array(in, data_type::table, depth))
      return false;
    table xs;
    for (size_t i = 0; i < in.items().size(); ++i) {
      path_scope scope{*this, index(i)};
      auto& entry = in.items()[i];
      if (depth + 1 > limits_.max_depth)
        return fail("nesting deeper than "
                    + std::to_string(limits_.max_depth) + " levels");
      if (!entry.is_object())
        return fail("expected a table entry {\"key\": ..., \"value\": ...}, "
                    "got "
                    + std::string{to_string(entry.type())});
      auto key = entry.find("key");
      auto val = entry.find("value");
      if (key == nullptr || val == nullptr)
        return fail(key == nullptr ? "table entry without \"key\""
                                   : "table entry without \"value\"");
      data k;
      data v;
      {
        path_scope key_scope{*this, ".key"};
        if (!value_object(*key, k, depth + 2))
          return false;
      }
      {
        path_scope val_scope{*this, ".value"};
        if (!value_object(*val, v, depth + 2))
          return false;
      }
      // Unlike a set, two values for one key are a contradiction, not a
      // redundancy; try_emplace leaves `k` intact for the message.
      auto [pos, added] = xs.try_emplace(std::move(k), std::move(v));
      if (!added)
        return fail("repeated table key " + excerpt(encode(k)));
    }
    out = data{std::move(xs)};
    return true;
  }

  const decode_limits& limits_;
  std::string path_ = "$";
  error err_;
};

} // namespace

void encode_string(std::string_view str, std::string& out) {
  out += '"';
  size_t i = 0;
  while (i < str.size()) {
    auto c = static_cast<uint8_t>(str[i]);
    if (c >= 0x80) {
      auto len = utf8_sequence_length(str, i);
      if (len > 0) {
        out.append(str.data() + i, len);
        i += len;
        continue;
      }
      // A text frame must be valid UTF-8; the byte goes out as its
      // Latin-1 code point (lossy, documented in §4.4).
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "\\u00";
          out += hex_digits[c >> 4];
          out += hex_digits[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void encode_members(const data& x, std::string& out) {
  out += "\"@data-type\":\"";
  out += to_string(x.get_type());
  out += "\",\"data\":";
  std::visit(encoder{out}, x.get_data());
}

void encode(const data& x, std::string& out) {
  out += '{';
  encode_members(x, out);
  out += '}';
}

std::string encode(const data& x) {
  std::string result;
  encode(x, result);
  return result;
}

expected<data> decode(const value& doc, const decode_limits& limits) {
  decoder dec{limits};
  data result;
  if (!dec.value_object(doc, result, 1))
    return dec.err();
  return result;
}

expected<data> decode(std::string_view text, const decode_limits& limits) {
  auto doc = parse(text, limits.max_depth);
  if (!doc)
    return doc.error();
  return decode(*doc, limits);
}

} // namespace broker::format::json
