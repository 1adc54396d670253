#pragma once

// Builds one visitor from several lambdas, for std::visit over a variant:
//
//   std::visit(overloaded{[](const put_command& x) { ... },
//                         [](const auto&) { /* everything else */ }},
//              cmd);
//
// Overload resolution picks the best match, so a generic `auto` lambda
// catches the alternatives no other lambda names, and a lambda constrained
// by `any_of` handles a group of alternatives alike.

#include <concepts>

namespace broker::detail {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};

template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

/// `T` is one of `Ts`: `[](any_of<put_command, erase_command> auto& x)`.
template <class T, class... Ts>
concept any_of = (std::same_as<T, Ts> || ...);

} // namespace broker::detail
