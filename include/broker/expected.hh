#pragma once

/// A small `expected<T>` holding either a value or a `broker::error`.
///
/// g++ 12 only offers `std::expected` in C++23 mode; this is the subset we
/// need. Failures caused by the outside world (network, disk, peer input)
/// are returned this way, never thrown.

#include "broker/error.hh"

#include <utility>
#include <variant>

namespace broker {

template <class T>
class expected {
public:
  expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}

  expected(broker::error err) : state_(std::in_place_index<1>, std::move(err)) {}

  /// @returns whether a value is present.
  explicit operator bool() const noexcept { return state_.index() == 0; }

  bool has_value() const noexcept { return state_.index() == 0; }

  T& operator*() & { return std::get<0>(state_); }
  const T& operator*() const& { return std::get<0>(state_); }
  T&& operator*() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }

  /// @pre `!has_value()`
  const broker::error& error() const { return std::get<1>(state_); }

private:
  std::variant<T, broker::error> state_;
};

} // namespace broker
