#include "store/backend.hh"

#include <string>
#include <utility>

namespace broker::detail {

namespace {

template <size_t... Is>
void emplace_default(data::variant_type& v, size_t index,
                     std::index_sequence<Is...>) {
  ((index == Is ? (void) v.template emplace<Is>() : (void) 0), ...);
}

error clash(const char* what, const data& x, const data& value) {
  std::string msg = "cannot ";
  msg += what;
  msg += " a ";
  msg += to_string(value.get_type());
  msg += " to a ";
  msg += to_string(x.get_type());
  return error{ec::type_clash, std::move(msg)};
}

// Two's complement arithmetic without signed overflow (wraps like count).
int64_t wrap_add(int64_t x, int64_t y) noexcept {
  return static_cast<int64_t>(static_cast<uint64_t>(x)
                              + static_cast<uint64_t>(y));
}

int64_t wrap_sub(int64_t x, int64_t y) noexcept {
  return static_cast<int64_t>(static_cast<uint64_t>(x)
                              - static_cast<uint64_t>(y));
}

} // namespace

backend::~backend() = default;

expected<none> backend::add(const data& key, const data& value,
                            data_type init_type,
                            std::optional<timestamp> expiry) {
  auto x = get(key);
  if (!x) {
    if (x.error().code() != ec::no_such_key)
      return x.error();
    x = default_of(init_type);
  }
  if (auto res = apply_add(*x, value); !res)
    return res;
  return put(key, std::move(*x), expiry);
}

expected<none> backend::subtract(const data& key, const data& value,
                                 std::optional<timestamp> expiry) {
  auto x = get(key);
  if (!x)
    return x.error();
  if (auto res = apply_subtract(*x, value); !res)
    return res;
  return put(key, std::move(*x), expiry);
}

expected<data> backend::get(const data& key, const data& aspect) const {
  auto x = get(key);
  if (!x)
    return x;
  return retrieve(*x, aspect);
}

data default_of(data_type t) {
  data result;
  emplace_default(result.get_data(), static_cast<size_t>(t),
                  std::make_index_sequence<
                    std::variant_size_v<data::variant_type>>{});
  return result;
}

expected<none> apply_add(data& x, const data& value) {
  auto& v = value.get_data();
  switch (x.get_type()) {
    case data_type::count:
      if (auto y = std::get_if<count>(&v)) {
        x.get<count>() += *y;
        return none{};
      }
      break;
    case data_type::integer:
      if (auto y = std::get_if<integer>(&v)) {
        x.get<integer>() = wrap_add(x.get<integer>(), *y);
        return none{};
      }
      break;
    case data_type::real:
      if (auto y = std::get_if<real>(&v)) {
        x.get<real>() += *y;
        return none{};
      }
      break;
    case data_type::timespan:
      if (auto y = std::get_if<timespan>(&v)) {
        auto& z = x.get<timespan>();
        z = timespan{wrap_add(z.count(), y->count())};
        return none{};
      }
      break;
    case data_type::timestamp:
      if (auto y = std::get_if<timespan>(&v)) {
        auto& z = x.get<timestamp>();
        z = timestamp{timespan{wrap_add(z.time_since_epoch().count(),
                                        y->count())}};
        return none{};
      }
      break;
    case data_type::string:
      if (auto y = std::get_if<std::string>(&v)) {
        x.get<std::string>() += *y;
        return none{};
      }
      break;
    case data_type::vector:
      x.get<vector>().push_back(value);
      return none{};
    case data_type::set:
      x.get<set>().insert(value);
      return none{};
    case data_type::table:
      if (auto y = std::get_if<vector>(&v)) {
        if (y->size() != 2)
          return error{ec::invalid_data,
                       "inserting into a table needs a [key, value] pair, got "
                       "a vector of size "
                         + std::to_string(y->size())};
        x.get<table>().insert_or_assign((*y)[0], (*y)[1]);
        return none{};
      }
      break;
    default:
      break;
  }
  return clash("add", x, value);
}

expected<none> apply_subtract(data& x, const data& value) {
  auto& v = value.get_data();
  switch (x.get_type()) {
    case data_type::count:
      if (auto y = std::get_if<count>(&v)) {
        x.get<count>() -= *y;
        return none{};
      }
      break;
    case data_type::integer:
      if (auto y = std::get_if<integer>(&v)) {
        x.get<integer>() = wrap_sub(x.get<integer>(), *y);
        return none{};
      }
      break;
    case data_type::real:
      if (auto y = std::get_if<real>(&v)) {
        x.get<real>() -= *y;
        return none{};
      }
      break;
    case data_type::timespan:
      if (auto y = std::get_if<timespan>(&v)) {
        auto& z = x.get<timespan>();
        z = timespan{wrap_sub(z.count(), y->count())};
        return none{};
      }
      break;
    case data_type::timestamp:
      if (auto y = std::get_if<timespan>(&v)) {
        auto& z = x.get<timestamp>();
        z = timestamp{timespan{wrap_sub(z.time_since_epoch().count(),
                                        y->count())}};
        return none{};
      }
      break;
    case data_type::vector: {
      auto& xs = x.get<vector>();
      if (!xs.empty())
        xs.pop_back();
      return none{};
    }
    case data_type::set:
      x.get<set>().erase(value);
      return none{};
    case data_type::table:
      x.get<table>().erase(value);
      return none{};
    default:
      break;
  }
  return clash("subtract", x, value);
}

expected<data> retrieve(const data& x, const data& aspect) {
  switch (x.get_type()) {
    case data_type::set:
      return data{x.get<set>().count(aspect) == 1};
    case data_type::table: {
      auto& t = x.get<table>();
      if (auto i = t.find(aspect); i != t.end())
        return i->second;
      return error{ec::no_such_key,
                   "table has no key " + to_string(aspect)};
    }
    case data_type::vector: {
      auto& xs = x.get<vector>();
      count index = 0;
      if (auto i = aspect.get_if<count>())
        index = *i;
      else if (auto j = aspect.get_if<integer>(); j && *j >= 0)
        index = static_cast<count>(*j);
      else
        return error{ec::type_clash,
                     "a vector index must be a count or a non-negative "
                     "integer, got "
                       + to_string(aspect)};
      if (index >= xs.size())
        return error{ec::no_such_key,
                     "index " + std::to_string(index)
                       + " out of range for a vector of size "
                       + std::to_string(xs.size())};
      return xs[index];
    }
    default:
      return error{ec::type_clash,
                   "cannot index into a " + std::string{to_string(x.get_type())}};
  }
}

} // namespace broker::detail
