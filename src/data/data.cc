#include "broker/data.hh"

#include <array>
#include <cmath>
#include <cstring>
#include <functional>

namespace broker {

namespace {

template <class T>
int cmp3(const T& x, const T& y) noexcept {
  return x < y ? -1 : (y < x ? 1 : 0);
}

// NaNs compare equal to each other and greater than any number; -0.0 and
// 0.0 are equal. This keeps std::set<data> a strict weak ordering.
int cmp_real(double x, double y) noexcept {
  bool xn = std::isnan(x);
  bool yn = std::isnan(y);
  if (xn || yn)
    return xn == yn ? 0 : (xn ? 1 : -1);
  return cmp3(x, y);
}

int cmp_string(std::string_view x, std::string_view y) noexcept {
  auto c = x.compare(y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

template <class Range>
int cmp_range(const Range& xs, const Range& ys) noexcept;

struct comparator {
  const data::variant_type& other;

  int operator()(const none&) const noexcept { return 0; }
  int operator()(const real& x) const noexcept {
    return cmp_real(x, *std::get_if<real>(&other));
  }
  int operator()(const std::string& x) const noexcept {
    return cmp_string(x, *std::get_if<std::string>(&other));
  }
  int operator()(const enum_value& x) const noexcept {
    return cmp_string(x.name, std::get_if<enum_value>(&other)->name);
  }
  int operator()(const set& x) const noexcept {
    return cmp_range(x, *std::get_if<set>(&other));
  }
  int operator()(const table& x) const noexcept {
    return cmp_range(x, *std::get_if<table>(&other));
  }
  int operator()(const vector& x) const noexcept {
    return cmp_range(x, *std::get_if<vector>(&other));
  }
  template <class T>
  int operator()(const T& x) const noexcept {
    return cmp3(x, *std::get_if<T>(&other));
  }
};

int cmp_elem(const data& x, const data& y) noexcept {
  return compare(x, y);
}

int cmp_elem(const std::pair<const data, data>& x,
             const std::pair<const data, data>& y) noexcept {
  if (auto c = compare(x.first, y.first); c != 0)
    return c;
  return compare(x.second, y.second);
}

template <class Range>
int cmp_range(const Range& xs, const Range& ys) noexcept {
  auto i = xs.begin();
  auto j = ys.begin();
  for (; i != xs.end() && j != ys.end(); ++i, ++j)
    if (auto c = cmp_elem(*i, *j); c != 0)
      return c;
  if (i == xs.end())
    return j == ys.end() ? 0 : -1;
  return 1;
}

// boost::hash_combine's mixing step.
inline void combine(size_t& seed, size_t h) noexcept {
  seed ^= h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}

struct hasher {
  size_t operator()(const none&) const noexcept { return 0; }
  size_t operator()(const real& x) const noexcept {
    if (std::isnan(x))
      return 0x7ff8;
    return std::hash<double>{}(x == 0.0 ? 0.0 : x);
  }
  size_t operator()(const address& x) const noexcept {
    return std::hash<std::string_view>{}(std::string_view{
      reinterpret_cast<const char*>(x.bytes().data()), 16});
  }
  size_t operator()(const subnet& x) const noexcept {
    auto seed = (*this)(x.network());
    combine(seed, x.raw_length());
    return seed;
  }
  size_t operator()(const port& x) const noexcept {
    return (size_t{x.number()} << 8) | static_cast<size_t>(x.type());
  }
  size_t operator()(const timestamp& x) const noexcept {
    return std::hash<int64_t>{}(x.time_since_epoch().count());
  }
  size_t operator()(const timespan& x) const noexcept {
    return std::hash<int64_t>{}(x.count());
  }
  size_t operator()(const enum_value& x) const noexcept {
    return std::hash<std::string>{}(x.name);
  }
  size_t operator()(const set& xs) const noexcept {
    size_t seed = xs.size();
    for (auto& x : xs)
      combine(seed, hash_value(x));
    return seed;
  }
  size_t operator()(const table& xs) const noexcept {
    size_t seed = xs.size();
    for (auto& [k, v] : xs) {
      combine(seed, hash_value(k));
      combine(seed, hash_value(v));
    }
    return seed;
  }
  size_t operator()(const vector& xs) const noexcept {
    size_t seed = xs.size();
    for (auto& x : xs)
      combine(seed, hash_value(x));
    return seed;
  }
  template <class T>
  size_t operator()(const T& x) const noexcept {
    return std::hash<T>{}(x);
  }
};

struct stringifier {
  std::string& out;

  void operator()(const none&) { out += "nil"; }
  void operator()(boolean x) { out += x ? 'T' : 'F'; }
  void operator()(count x) { out += std::to_string(x); }
  void operator()(integer x) { out += std::to_string(x); }
  // C's "%f", as real Broker prints reals (1e18 is
  // "1000000000000000000.000000", 1e-7 is "0.000000"): scripts compare
  // these strings. std::to_string(double) is specified as "%f".
  void operator()(real x) { out += std::to_string(x); }
  void operator()(const std::string& x) { out += x; }
  void operator()(const address& x) { out += x.to_string(); }
  void operator()(const subnet& x) { out += x.to_string(); }
  void operator()(const port& x) { out += x.to_string(); }
  void operator()(const timestamp& x) {
    out += std::to_string(x.time_since_epoch().count());
    out += "ns";
  }
  void operator()(const timespan& x) {
    out += std::to_string(x.count());
    out += "ns";
  }
  void operator()(const enum_value& x) { out += x.name; }
  void operator()(const set& xs) {
    out += '{';
    sep_list(xs, [this](const data& x) { std::visit(*this, x.get_data()); });
    out += '}';
  }
  void operator()(const table& xs) {
    out += '{';
    sep_list(xs, [this](const auto& kv) {
      std::visit(*this, kv.first.get_data());
      out += " -> ";
      std::visit(*this, kv.second.get_data());
    });
    out += '}';
  }
  void operator()(const vector& xs) {
    out += '(';
    sep_list(xs, [this](const data& x) { std::visit(*this, x.get_data()); });
    out += ')';
  }

  template <class Range, class F>
  void sep_list(const Range& xs, F f) {
    bool first = true;
    for (auto& x : xs) {
      if (!first)
        out += ", ";
      first = false;
      f(x);
    }
  }
};

} // namespace

std::string_view to_string(data_type t) noexcept {
  static constexpr std::array<std::string_view, 15> names = {
    "none",      "boolean",  "count",      "integer", "real",
    "string",    "address",  "subnet",     "port",    "timestamp",
    "timespan",  "enum-value", "set",      "table",   "vector",
  };
  auto i = static_cast<size_t>(t);
  return i < names.size() ? names[i] : std::string_view{"<invalid>"};
}

int compare(const data& x, const data& y) noexcept {
  auto xi = x.value_.index();
  auto yi = y.value_.index();
  if (xi != yi)
    return xi < yi ? -1 : 1;
  return std::visit(comparator{y.value_}, x.value_);
}

size_t hash_value(const data& x) noexcept {
  auto seed = x.get_data().index();
  combine(seed, std::visit(hasher{}, x.get_data()));
  return seed;
}

std::string to_string(const data& x) {
  std::string result;
  std::visit(stringifier{result}, x.get_data());
  return result;
}

} // namespace broker
