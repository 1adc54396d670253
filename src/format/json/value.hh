#pragma once

// A small JSON document model and parser for untrusted input.
//
// Written for the WebSocket API rather than taken from a general library
// because the value encoding (websocket-api.md §4) needs things generic
// parsers hide: whether a number literal had a fraction or exponent (count
// and integer reject `1.0`), integers up to 2^64-1 without going through a
// double, and the non-standard tokens `NaN`, `Infinity` and `-Infinity`.
// Numbers therefore keep their literal text; conversions happen on demand.

#include "broker/expected.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace broker::format::json {

/// The six kinds of JSON values.
enum class kind : uint8_t { null, boolean, number, string, array, object };

/// @returns "null", "boolean", "number", "string", "array" or "object".
std::string_view to_string(kind k) noexcept;

/// How a number was written.
enum class number_form : uint8_t {
  /// No fraction and no exponent: `0`, `-12`.
  integer,
  /// With a fraction or an exponent: `1.0`, `5e0`.
  decimal,
  /// The token `NaN`.
  nan,
  /// The token `Infinity`.
  infinity,
  /// The token `-Infinity`.
  negative_infinity,
};

/// One parsed JSON value. Objects keep their members in input order,
/// duplicates included.
class value {
public:
  struct member;
  using array_type = std::vector<value>;
  using object_type = std::vector<member>;

  /// Constructs `null`.
  value() noexcept = default;

  static value make_boolean(bool x);

  /// @param text the literal as written (for the tokens: `NaN`, ...).
  static value make_number(std::string text, number_form form);

  /// @param str the unescaped contents, UTF-8.
  static value make_string(std::string str);

  static value make_array(array_type items);

  static value make_object(object_type members);

  kind type() const noexcept { return kind_; }

  bool is_null() const noexcept { return kind_ == kind::null; }
  bool is_boolean() const noexcept { return kind_ == kind::boolean; }
  bool is_number() const noexcept { return kind_ == kind::number; }
  bool is_string() const noexcept { return kind_ == kind::string; }
  bool is_array() const noexcept { return kind_ == kind::array; }
  bool is_object() const noexcept { return kind_ == kind::object; }

  /// @pre `is_boolean()`
  bool as_boolean() const noexcept { return bool_; }

  /// The unescaped contents of a string, or the literal text of a number.
  /// Empty for other kinds.
  const std::string& text() const noexcept { return text_; }

  /// @pre `is_number()`
  number_form form() const noexcept { return form_; }

  /// The elements of an array; empty for other kinds.
  const array_type& items() const noexcept { return items_; }

  /// The members of an object; empty for other kinds.
  const object_type& members() const noexcept { return members_; }

  /// Looks up an object member. When a key repeats, the last one wins, as
  /// with JavaScript's `JSON.parse` and Python's `json` (the languages of
  /// the target clients).
  /// @returns the member's value, or nullptr (also for non-objects).
  const value* find(std::string_view key) const noexcept;

  /// @returns the number as an unsigned 64-bit integer, or nullopt unless
  /// it is an integer literal in 0 ... 2^64-1.
  std::optional<uint64_t> to_uint64() const noexcept;

  /// @returns the number as a signed 64-bit integer, or nullopt unless it
  /// is an integer literal in -2^63 ... 2^63-1.
  std::optional<int64_t> to_int64() const noexcept;

  /// @returns the number as the nearest double (a literal too small for a
  /// double becomes a signed zero), or nullopt for a non-number or a
  /// literal whose magnitude exceeds the largest double.
  std::optional<double> to_double() const noexcept;

private:
  kind kind_ = kind::null;
  bool bool_ = false;
  number_form form_ = number_form::integer;
  std::string text_;
  array_type items_;
  object_type members_;
};

struct value::member {
  std::string key;
  value val;
};

/// Parses exactly one JSON text (RFC 8259) plus the tokens `NaN`,
/// `Infinity` and `-Infinity`. Strings must be valid UTF-8 and `\u`
/// escapes must not leave a surrogate unpaired. Leading and trailing
/// whitespace is allowed, anything else after the value is not.
/// @param max_depth the maximum nesting of arrays and objects (a top-level
///        object counts as 1).
/// @returns the document, or an `ec::invalid_json` error naming the byte
///          offset of the problem.
expected<value> parse(std::string_view text, int max_depth = 100);

} // namespace broker::format::json
