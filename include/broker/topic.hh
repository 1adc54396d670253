#pragma once

/// A topic: a `/`-separated string. A subscription matches every topic that
/// starts with it as a plain string prefix (`/test` matches `/testing`), as
/// real Broker does.

#include <compare>
#include <string>
#include <string_view>

namespace broker {

class topic {
public:
  /// The separator between topic levels.
  static constexpr char sep = '/';

  /// Prefix of Broker's internal topics (`<$>/local/...`, store topics).
  static constexpr std::string_view reserved = "<$>";

  topic() = default;

  topic(std::string str) : str_(std::move(str)) {}

  const std::string& string() const noexcept { return str_; }

  /// Appends `other` as real Broker does: with a separator in between
  /// unless either side is empty or `other` starts with one, then drops one
  /// trailing separator (`"a/" / "b"` is `"a//b"`, `"a" / "/b"` is `"a/b"`).
  topic& operator/=(const topic& other);

  friend topic operator/(topic lhs, const topic& rhs) {
    lhs /= rhs;
    return lhs;
  }

  /// @returns whether a subscription to `this` receives messages on `t`.
  bool prefix_of(std::string_view t) const noexcept {
    return t.starts_with(str_);
  }

  /// @returns whether `t` names an internal topic users may not publish on:
  /// it starts with `<$>` or contains a `/<$>/` level (store topics).
  static bool is_reserved(std::string_view t) noexcept;

  friend bool operator==(const topic&, const topic&) = default;
  friend auto operator<=>(const topic&, const topic&) = default;

private:
  std::string str_;
};

} // namespace broker
