#pragma once

/// Data stores: a key-value store with one master (in memory or SQLite) and
/// any number of clones on other endpoints that replicate it (SPEC §7).
///
/// A `store` is a handle on a master or a clone; both offer the same API.
/// Queries block until answered (a clone answers from its replica);
/// mutations return at once and reach the master asynchronously.
/// @note Thread-safe.

#include "broker/data.hh"
#include "broker/expected.hh"
#include "broker/time.hh"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace broker {

namespace detail {
class store_actor;
struct store_lease; // keeps a master or clone running while handles exist
} // namespace detail

/// Storage of a master. `rocksdb` is Broker 1.4's third backend, named so
/// that old scripts get a clear error: this build has no RocksDB, and
/// attaching a master with it fails with backend_failure.
enum class backend_type : uint8_t { memory = 0, sqlite = 1, rocksdb = 2 };

/// Topic of local store events (insert, update, erase, expire).
inline constexpr const char* store_events_topic = "<$>/local/data/store-events";

class store {
public:
  using clock = std::chrono::steady_clock;
  using expiry_type = std::optional<timespan>;

  explicit store(std::shared_ptr<detail::store_actor> impl);
  ~store();

  /// Another handle of the same master or clone. The store runs until the
  /// last handle is reset or destroyed.
  std::unique_ptr<store> share() const;

  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// The store's name.
  const std::string& name() const;

  /// Whether this handle is the master (false: a clone).
  bool is_master() const;

  // -- queries (blocking) -------------------------------------------------------

  /// @returns the value, or ec::no_such_key (ec::stale_data from a clone
  /// cut off from its master for longer than its stale interval).
  expected<data> get(const data& key) const;

  /// Index into a container value: set membership, table lookup, vector
  /// element.
  expected<data> get_index_from_value(const data& key,
                                      const data& index) const;

  expected<bool> exists(const data& key) const;

  /// @returns all keys as a set.
  expected<data> keys() const;

  /// Inserts only if `key` is absent. Blocks for the master's answer.
  /// @returns whether it inserted.
  expected<bool> put_unique(data key, data value, expiry_type expiry = {});

  /// Waits until every mutation made so far is applied everywhere the store
  /// knows of (master: acknowledged by all clones; clone: by the master).
  bool await_idle(clock::time_point deadline);

  // -- mutations (asynchronous) -------------------------------------------------

  void put(data key, data value, expiry_type expiry = {});
  void erase(data key);
  void clear();
  /// Adds `amount` (count, integer, real or timespan) to a number.
  void increment(data key, data amount, expiry_type expiry = {});
  void decrement(data key, data amount, expiry_type expiry = {});
  void append(data key, data str, expiry_type expiry = {});
  /// Inserts into a set (no `value`) or a table.
  void insert_into(data key, data index, expiry_type expiry = {});
  void insert_into(data key, data index, data value, expiry_type expiry = {});
  void remove_from(data key, data index, expiry_type expiry = {});
  void push(data key, data value, expiry_type expiry = {});
  void pop(data key, expiry_type expiry = {});

  /// Detaches this handle; once no handle is left, a master stops serving
  /// its clones.
  void reset();

  /// Whether this handle was not reset.
  bool attached() const noexcept { return lease_ != nullptr; }

private:
  friend class endpoint; // hands out more handles of its masters

  store(std::shared_ptr<detail::store_actor> impl,
        std::shared_ptr<detail::store_lease> lease);

  std::shared_ptr<detail::store_actor> impl_;
  std::shared_ptr<detail::store_lease> lease_;
};

} // namespace broker
