#include "store/memory_backend.hh"

#include <utility>

namespace broker::detail {

namespace {

error missing(const data& key) {
  return error{ec::no_such_key, "no such key: " + to_string(key)};
}

} // namespace

expected<none> memory_backend::put(const data& key, data value,
                                   std::optional<timestamp> expiry) {
  store_.insert_or_assign(key, entry{std::move(value), expiry});
  return none{};
}

expected<none> memory_backend::add(const data& key, const data& value,
                                   data_type init_type,
                                   std::optional<timestamp> expiry) {
  if (auto i = store_.find(key); i != store_.end()) {
    auto res = apply_add(i->second.value, value);
    if (res)
      i->second.expiry = expiry;
    return res;
  }
  // Insert only on success, so that a clash leaves no default behind.
  auto x = default_of(init_type);
  auto res = apply_add(x, value);
  if (res)
    store_.emplace(key, entry{std::move(x), expiry});
  return res;
}

expected<none> memory_backend::subtract(const data& key, const data& value,
                                        std::optional<timestamp> expiry) {
  auto i = store_.find(key);
  if (i == store_.end())
    return missing(key);
  auto res = apply_subtract(i->second.value, value);
  if (res)
    i->second.expiry = expiry;
  return res;
}

expected<none> memory_backend::erase(const data& key) {
  store_.erase(key);
  return none{};
}

expected<none> memory_backend::clear() {
  store_.clear();
  return none{};
}

expected<bool> memory_backend::expire(const data& key, timestamp now) {
  auto i = store_.find(key);
  if (i == store_.end() || !i->second.expiry || now < *i->second.expiry)
    return false;
  store_.erase(i);
  return true;
}

expected<data> memory_backend::get(const data& key) const {
  if (auto i = store_.find(key); i != store_.end())
    return i->second.value;
  return missing(key);
}

expected<data> memory_backend::get(const data& key,
                                   const data& aspect) const {
  if (auto i = store_.find(key); i != store_.end())
    return retrieve(i->second.value, aspect);
  return missing(key);
}

expected<bool> memory_backend::exists(const data& key) const {
  return store_.count(key) == 1;
}

expected<uint64_t> memory_backend::size() const {
  return static_cast<uint64_t>(store_.size());
}

expected<data> memory_backend::keys() const {
  set result;
  for (auto& kv : store_)
    result.insert(kv.first);
  return data{std::move(result)};
}

expected<snapshot_map> memory_backend::snapshot() const {
  snapshot_map result;
  result.reserve(store_.size());
  for (auto& [key, e] : store_)
    result.emplace(key, e.value);
  return result;
}

expected<expirables> memory_backend::expiries() const {
  expirables result;
  for (auto& [key, e] : store_)
    if (e.expiry)
      result.emplace_back(key, *e.expiry);
  return result;
}

} // namespace broker::detail
