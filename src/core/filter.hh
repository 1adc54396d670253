#pragma once

// Subscription filters: a sorted list of topic prefixes without duplicates
// and without entries covered by a shorter prefix (what real Broker
// advertises, wire-protocol.md §6 item 5).

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace broker::detail {

using filter_type = std::vector<std::string>;

/// @returns whether any prefix in `filter` matches `topic`.
inline bool filter_matches(const filter_type& filter,
                           std::string_view topic) noexcept {
  for (auto& prefix : filter)
    if (topic.starts_with(prefix))
      return true;
  return false;
}

/// Sorts, removes duplicates and entries covered by another prefix.
inline filter_type normalize_filter(filter_type xs) {
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  filter_type result;
  for (auto& x : xs) {
    // Sorted order puts a covering prefix right before what it covers.
    if (!result.empty() && std::string_view{x}.starts_with(result.back()))
      continue;
    result.push_back(std::move(x));
  }
  return result;
}

/// Whether `topic` is internal and never advertised (`<$>/local...`).
inline bool is_local_only(std::string_view topic) noexcept {
  return topic.starts_with("<$>/local");
}

} // namespace broker::detail
