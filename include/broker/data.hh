#pragma once

/// `broker::data`: the value type of Broker's data model (SPEC §2).
///
/// A variant over 15 types whose alternative index is the wire type tag (none
/// = 0 ... vector = 14). Values have a total order (type first, then value),
/// equality and hashing, so they can be set elements and table keys.

#include "broker/address.hh"
#include "broker/enum_value.hh"
#include "broker/port.hh"
#include "broker/subnet.hh"
#include "broker/time.hh"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace broker {

class data;

/// The "nil" value.
struct none {
  friend constexpr bool operator==(none, none) noexcept { return true; }
  friend constexpr auto operator<=>(none, none) noexcept {
    return std::strong_ordering::equal;
  }
};

using boolean = bool;
using count = uint64_t;
using integer = int64_t;
using real = double;
using set = std::set<data>;
using table = std::map<data, data>;
using vector = std::vector<data>;

/// Broker's 15 value types, numbered as the wire type tags.
enum class data_type : uint8_t {
  none = 0,
  boolean,
  count,
  integer,
  real,
  string,
  address,
  subnet,
  port,
  timestamp,
  timespan,
  enum_value,
  set,
  table,
  vector,
};

/// @returns the name of a type: "none", "boolean", ..., "enum-value", ...
/// (the names the WebSocket API uses).
std::string_view to_string(data_type t) noexcept;

class data {
public:
  using variant_type =
    std::variant<none, boolean, count, integer, real, std::string, address,
                 subnet, port, timestamp, timespan, enum_value, set, table,
                 vector>;

  // -- construction -----------------------------------------------------------

  data() noexcept = default;

  data(none) noexcept {}

  /// Booleans, and integral types: unsigned become count, signed integer.
  template <class T>
    requires std::integral<T>
  data(T x) noexcept {
    if constexpr (std::is_same_v<T, bool>)
      value_ = x;
    else if constexpr (std::is_signed_v<T>)
      value_ = static_cast<integer>(x);
    else
      value_ = static_cast<count>(x);
  }

  data(real x) noexcept : value_(x) {}
  data(std::string x) noexcept : value_(std::move(x)) {}
  data(std::string_view x) : value_(std::string{x}) {}
  data(const char* x) : value_(std::string{x}) {}
  data(address x) noexcept : value_(x) {}
  data(subnet x) noexcept : value_(x) {}
  data(port x) noexcept : value_(x) {}
  data(timestamp x) noexcept : value_(x) {}
  data(timespan x) noexcept : value_(x) {}
  data(enum_value x) noexcept : value_(std::move(x)) {}
  data(set x) noexcept : value_(std::move(x)) {}
  data(table x) noexcept : value_(std::move(x)) {}
  data(vector x) noexcept : value_(std::move(x)) {}

  // -- observers --------------------------------------------------------------

  data_type get_type() const noexcept {
    return static_cast<data_type>(value_.index());
  }

  /// @returns whether this value holds a `T`.
  template <class T>
  bool is() const noexcept {
    return std::holds_alternative<T>(value_);
  }

  /// @pre `is<T>()`
  template <class T>
  T& get() {
    return *std::get_if<T>(&value_);
  }

  /// @pre `is<T>()`
  template <class T>
  const T& get() const {
    return *std::get_if<T>(&value_);
  }

  /// @returns a pointer to the `T` held, or nullptr.
  template <class T>
  T* get_if() noexcept {
    return std::get_if<T>(&value_);
  }

  template <class T>
  const T* get_if() const noexcept {
    return std::get_if<T>(&value_);
  }

  variant_type& get_data() noexcept { return value_; }
  const variant_type& get_data() const noexcept { return value_; }

  // -- comparison ---------------------------------------------------------------

  /// Total order: type tag first, then value. Reals order numerically with
  /// all NaNs equal to each other and greater than every number, so that
  /// sets and tables stay well-formed whatever they hold.
  /// @returns <0, 0 or >0.
  friend int compare(const data& x, const data& y) noexcept;

  friend bool operator==(const data& x, const data& y) noexcept {
    return compare(x, y) == 0;
  }
  friend bool operator<(const data& x, const data& y) noexcept {
    return compare(x, y) < 0;
  }
  friend std::strong_ordering operator<=>(const data& x,
                                          const data& y) noexcept {
    auto c = compare(x, y);
    return c < 0   ? std::strong_ordering::less
           : c > 0 ? std::strong_ordering::greater
                   : std::strong_ordering::equal;
  }

private:
  variant_type value_;
};

/// @returns a hash consistent with `operator==`.
size_t hash_value(const data& x) noexcept;

/// Renders a value in Broker's text form: `nil`, `T`/`F`, numbers, strings
/// verbatim, `(a, b)` for vectors, `{a, b}` for sets, `{k -> v}` for tables.
std::string to_string(const data& x);

} // namespace broker

template <>
struct std::hash<broker::data> {
  size_t operator()(const broker::data& x) const noexcept {
    return broker::hash_value(x);
  }
};
