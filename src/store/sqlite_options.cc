#include "store/sqlite_options.hh"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace broker::detail {

namespace {

using namespace std::string_view_literals;

constexpr std::array synchronous_values = {"off"sv, "normal"sv, "full"sv,
                                           "extra"sv};

constexpr std::array journal_mode_values = {"delete"sv, "truncate"sv,
                                            "persist"sv, "memory"sv, "wal"sv,
                                            "off"sv};

constexpr std::array failure_mode_values = {"fail"sv, "delete"sv};

template <size_t N>
bool one_of(const std::string& x, const std::array<std::string_view, N>& xs) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

template <size_t N>
std::string join(const std::array<std::string_view, N>& xs) {
  std::string result;
  for (auto x : xs) {
    if (!result.empty())
      result += ", ";
    result += x;
  }
  return result;
}

std::string lower(std::string_view x) {
  std::string result;
  result.reserve(x.size());
  for (char c : x)
    result += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

// Reads an enum-like option given as a string ("wal", "WAL") or as real
// Broker's enum value (Broker::SQLITE_JOURNAL_MODE_WAL).
template <size_t N>
expected<none> read_choice(const backend_options& opts, const std::string& name,
                           std::string_view enum_prefix,
                           const std::array<std::string_view, N>& allowed,
                           std::string& out) {
  auto i = opts.find(name);
  if (i == opts.end())
    return none{};
  std::string_view text;
  if (auto str = i->second.get_if<std::string>()) {
    text = *str;
  } else if (auto ev = i->second.get_if<enum_value>()) {
    text = ev->name;
    if (text.starts_with(enum_prefix))
      text.remove_prefix(enum_prefix.size());
  } else {
    return error{ec::invalid_data, "SQLite option '" + name
                                     + "' must be a string, got "
                                     + to_string(i->second)};
  }
  auto value = lower(text);
  if (!one_of(value, allowed))
    return error{ec::invalid_data, "invalid SQLite option " + name + "='"
                                     + std::string{text} + "' (expected one of "
                                     + join(allowed) + ")"};
  out = std::move(value);
  return none{};
}

} // namespace

expected<sqlite_options> sqlite_options::from(const backend_options& opts) {
  sqlite_options result;
  auto i = opts.find("path");
  if (i == opts.end())
    return error{ec::invalid_data, "SQLite backend needs a 'path' option"};
  if (auto str = i->second.get_if<std::string>())
    result.path = *str;
  else
    return error{ec::invalid_data, "SQLite option 'path' must be a string"};
  if (auto res = read_choice(opts, "synchronous", "Broker::SQLITE_SYNCHRONOUS_",
                             synchronous_values, result.synchronous);
      !res)
    return res.error();
  if (auto res = read_choice(opts, "journal_mode",
                             "Broker::SQLITE_JOURNAL_MODE_",
                             journal_mode_values, result.journal_mode);
      !res)
    return res.error();
  if (auto res = read_choice(opts, "failure_mode",
                             "Broker::SQLITE_FAILURE_MODE_",
                             failure_mode_values, result.failure_mode);
      !res)
    return res.error();
  if (auto j = opts.find("integrity_check"); j != opts.end()) {
    if (auto b = j->second.get_if<boolean>())
      result.integrity_check = *b;
    else
      return error{ec::invalid_data,
                   "SQLite option 'integrity_check' must be a boolean"};
  }
  return result;
}

expected<none> sqlite_options::normalize() {
  if (path.empty())
    return error{ec::invalid_data, "SQLite backend needs a non-empty path"};
  synchronous = lower(synchronous);
  journal_mode = lower(journal_mode);
  failure_mode = lower(failure_mode);
  if (!synchronous.empty() && !one_of(synchronous, synchronous_values))
    return error{ec::invalid_data, "invalid SQLite synchronous '" + synchronous
                                     + "' (expected one of "
                                     + join(synchronous_values) + ")"};
  if (!journal_mode.empty() && !one_of(journal_mode, journal_mode_values))
    return error{ec::invalid_data, "invalid SQLite journal_mode '"
                                     + journal_mode + "' (expected one of "
                                     + join(journal_mode_values) + ")"};
  if (!one_of(failure_mode, failure_mode_values))
    return error{ec::invalid_data, "invalid SQLite failure_mode '"
                                     + failure_mode + "' (expected one of "
                                     + join(failure_mode_values) + ")"};
  return none{};
}

} // namespace broker::detail
