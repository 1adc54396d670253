#pragma once

// A backend holding everything in a hash map; lost when the process ends.

#include "store/backend.hh"

#include <optional>
#include <unordered_map>
#include <utility>

namespace broker::detail {

class memory_backend final : public backend {
public:
  memory_backend() = default;

  expected<none> put(const data& key, data value,
                     std::optional<timestamp> expiry) override;

  expected<none> add(const data& key, const data& value, data_type init_type,
                     std::optional<timestamp> expiry) override;

  expected<none> subtract(const data& key, const data& value,
                          std::optional<timestamp> expiry) override;

  expected<none> erase(const data& key) override;

  expected<none> clear() override;

  expected<bool> expire(const data& key, timestamp now) override;

  expected<data> get(const data& key) const override;

  expected<data> get(const data& key, const data& aspect) const override;

  expected<bool> exists(const data& key) const override;

  expected<uint64_t> size() const override;

  expected<data> keys() const override;

  expected<snapshot_map> snapshot() const override;

  expected<expirables> expiries() const override;

private:
  struct entry {
    data value;
    std::optional<timestamp> expiry;
  };

  std::unordered_map<data, entry> store_;
};

} // namespace broker::detail
