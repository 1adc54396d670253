#include "format/json/time_text.hh"

#include "format/json/value.hh"

#include <chrono>
#include <cmath>
#include <limits>

namespace broker::format::json {

namespace {

constexpr auto int64_max = std::numeric_limits<int64_t>::max();

// Appends `x` zero-padded to `width` digits.
void append_padded(std::string& out, int64_t x, int width) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  for (auto n = res.ptr - buf; n < width; ++n)
    out += '0';
  out.append(buf, res.ptr);
}

// Reads exactly `n` decimal digits at `pos`.
bool read_fixed(std::string_view str, size_t pos, size_t n, int& out) {
  if (pos + n > str.size())
    return false;
  int result = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (str[i] < '0' || str[i] > '9')
      return false;
    result = result * 10 + (str[i] - '0');
  }
  out = result;
  return true;
}

} // namespace

// YYYY-MM-DDTHH:MM:SS.mmm in UTC. Flooring (not truncating toward zero)
// keeps pre-epoch values right: -1.5 s is 23:59:58.500 on the day before.
void append_timestamp(std::string& out, timestamp ts) {
  namespace sc = std::chrono;
  auto ms = sc::floor<sc::milliseconds>(ts);
  auto day = sc::floor<sc::days>(ms);
  sc::year_month_day ymd{day};
  auto tod = (ms - day).count();
  append_padded(out, static_cast<int>(ymd.year()), 4);
  out += '-';
  append_padded(out, static_cast<unsigned>(ymd.month()), 2);
  out += '-';
  append_padded(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  append_padded(out, tod / 3'600'000, 2);
  out += ':';
  append_padded(out, tod / 60'000 % 60, 2);
  out += ':';
  append_padded(out, tod / 1000 % 60, 2);
  out += '.';
  append_padded(out, tod % 1000, 3);
}

// The coarsest unit that represents the value exactly (§4.8).
void append_timespan(std::string& out, timespan x) {
  auto ns = x.count();
  if (ns == 0) {
    out += "0s";
    return;
  }
  if (ns % 1'000'000'000 == 0) {
    append_int(out, ns / 1'000'000'000);
    out += 's';
  } else if (ns % 1'000'000 == 0) {
    append_int(out, ns / 1'000'000);
    out += "ms";
  } else if (ns % 1000 == 0) {
    append_int(out, ns / 1000);
    out += "us";
  } else {
    append_int(out, ns);
    out += "ns";
  }
}

// Parses the ISO 8601 subset of §4.7. On failure, sets `why`.
std::optional<timestamp> parse_timestamp(std::string_view str,
                                         std::string& why) {
  constexpr auto format_hint
    = " (expected YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM])";
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!read_fixed(str, 0, 4, year) || str.size() < 19 || str[4] != '-'
      || !read_fixed(str, 5, 2, month) || str[7] != '-'
      || !read_fixed(str, 8, 2, day) || str[10] != 'T'
      || !read_fixed(str, 11, 2, hour) || str[13] != ':'
      || !read_fixed(str, 14, 2, minute) || str[16] != ':'
      || !read_fixed(str, 17, 2, second)) {
    why = std::string{"malformed timestamp"} + format_hint;
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < str.size() && str[pos] == '.') {
    ++pos;
    auto start = pos;
    while (pos < str.size() && str[pos] >= '0' && str[pos] <= '9')
      ++pos;
    auto digits = pos - start;
    if (digits < 1 || digits > 9) {
      why = "a timestamp fraction needs 1 to 9 digits";
      return std::nullopt;
    }
    for (size_t i = 0; i < 9; ++i)
      frac_ns = frac_ns * 10 + (i < digits ? str[start + i] - '0' : 0);
  }
  int offset_sign = 0;
  int offset_hours = 0;
  int offset_minutes = 0;
  if (pos < str.size() && str[pos] == 'Z') {
    ++pos;
  } else if (pos < str.size() && (str[pos] == '+' || str[pos] == '-')) {
    offset_sign = str[pos] == '+' ? 1 : -1;
    ++pos;
    if (!read_fixed(str, pos, 2, offset_hours)) {
      why = std::string{"malformed UTC offset"} + format_hint;
      return std::nullopt;
    }
    pos += 2;
    if (pos < str.size()) {
      if (str[pos] == ':')
        ++pos;
      if (!read_fixed(str, pos, 2, offset_minutes)) {
        why = std::string{"malformed UTC offset"} + format_hint;
        return std::nullopt;
      }
      pos += 2;
    }
  }
  if (pos != str.size()) {
    why = std::string{"unexpected characters after the timestamp"}
          + format_hint;
    return std::nullopt;
  }
  namespace sc = std::chrono;
  sc::year_month_day ymd{sc::year{year},
                         sc::month{static_cast<unsigned>(month)},
                         sc::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    why = "no such date";
    return std::nullopt;
  }
  // No leap seconds: a timestamp counts SI seconds since the epoch as if
  // every day had 86400 of them, so :60 has no representation.
  if (hour > 23 || minute > 59 || second > 59) {
    why = "no such time of day";
    return std::nullopt;
  }
  if (offset_hours > 23 || offset_minutes > 59) {
    why = "UTC offset out of range";
    return std::nullopt;
  }
  // Years 0000-9999 keep this far away from overflowing int64 seconds.
  int64_t secs = int64_t{sc::sys_days{ymd}.time_since_epoch().count()} * 86400
                 + hour * 3600 + minute * 60 + second
                 - offset_sign * (offset_hours * 3600 + offset_minutes * 60);
  // secs * 1e9 + frac_ns without overflowing; for negative seconds, borrow
  // one second so that values just above INT64_MIN stay representable.
  constexpr int64_t giga = 1'000'000'000;
  int64_t ns = 0;
  bool overflow;
  if (secs < 0 && frac_ns > 0)
    overflow = __builtin_mul_overflow(secs + 1, giga, &ns)
               || __builtin_sub_overflow(ns, giga - frac_ns, &ns);
  else
    overflow = __builtin_mul_overflow(secs, giga, &ns)
               || __builtin_add_overflow(ns, frac_ns, &ns);
  if (overflow) {
    why = "timestamp out of range (years 1677 to 2262)";
    return std::nullopt;
  }
  return timestamp{timespan{ns}};
}

// Parses `[+-]<digits>[.<digits>]<unit>` (§4.8).
std::optional<timespan> parse_timespan(std::string_view str,
                                       std::string& why) {
  constexpr auto format_hint
    = " (expected a number and one of the units ns, us, ms, s, min, h, d)";
  size_t pos = 0;
  bool negative = false;
  if (pos < str.size() && (str[pos] == '+' || str[pos] == '-'))
    negative = str[pos++] == '-';
  auto is_digit = [&](size_t i) {
    return i < str.size() && str[i] >= '0' && str[i] <= '9';
  };
  auto num_start = pos;
  if (!is_digit(pos)) {
    why = std::string{"malformed timespan"} + format_hint;
    return std::nullopt;
  }
  while (is_digit(pos))
    ++pos;
  if (pos < str.size() && str[pos] == '.') {
    ++pos;
    if (!is_digit(pos)) {
      why = std::string{"malformed timespan"} + format_hint;
      return std::nullopt;
    }
    while (is_digit(pos))
      ++pos;
  }
  auto num = str.substr(num_start, pos - num_start);
  auto unit = str.substr(pos);
  int64_t factor;
  if (unit == "ns")
    factor = 1;
  else if (unit == "us")
    factor = 1000;
  else if (unit == "ms")
    factor = 1'000'000;
  else if (unit == "s")
    factor = 1'000'000'000;
  else if (unit == "min")
    factor = 60'000'000'000;
  else if (unit == "h")
    factor = 3'600'000'000'000;
  else if (unit == "d")
    factor = 86'400'000'000'000;
  else {
    why = std::string{"unknown or missing timespan unit"} + format_hint;
    return std::nullopt;
  }
  constexpr auto range_error = "timespan out of range (about +-292 years)";
  if (num.find('.') == std::string_view::npos) {
    // A whole count is computed exactly: going through a double would
    // corrupt our own output beyond 2^53 ns (e.g. "9223372036s").
    uint64_t whole = 0;
    uint64_t ns = 0;
    auto [ptr, err] = std::from_chars(num.data(), num.data() + num.size(),
                                      whole);
    // 2^63 itself is only valid when negated.
    auto limit = static_cast<uint64_t>(int64_max) + (negative ? 1 : 0);
    if (err != std::errc{} || ptr != num.data() + num.size()
        || __builtin_mul_overflow(whole, static_cast<uint64_t>(factor), &ns)
        || ns > limit) {
      why = range_error;
      return std::nullopt;
    }
    // Negating in unsigned arithmetic keeps -2^63 well-defined.
    return timespan{static_cast<int64_t>(negative ? 0 - ns : ns)};
  }
  // With a fraction, the number is evaluated in double precision as in the
  // reference (§4.8), but rounded to the nearest nanosecond rather than
  // truncated, so that a product landing at 299999999.99999994 still means
  // 0.3 s. `num` is a plain decimal literal, which lets us reuse the
  // out-of-range handling of to_double (tiny fractions become zero).
  auto val = value::make_number(std::string{num}, number_form::decimal)
               .to_double();
  double ns = val ? std::round(*val * static_cast<double>(factor)) : HUGE_VAL;
  if (negative)
    ns = -ns;
  // 0x1p63 is exactly 2^63; int64 holds [-2^63, 2^63).
  if (!(ns >= -0x1p63 && ns < 0x1p63)) {
    why = range_error;
    return std::nullopt;
  }
  return timespan{static_cast<int64_t>(ns)};
}

} // namespace broker::format::json
