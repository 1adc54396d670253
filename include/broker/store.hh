#pragma once

/// Data stores: a key-value store with one master (in memory or SQLite) and
/// any number of clones on other endpoints that replicate it (SPEC §7).
///
/// A `store` is a handle on a master or a clone; both offer the same API.
/// Each master and clone runs on its own thread; a handle posts requests to
/// it. Queries block until answered (a clone answers from its replica), for
/// at most 10 s (real Broker's frontend timeout), then fail with
/// ec::request_timeout. Mutations return once queued (waiting only while
/// the store is 64k requests behind) and reach the master asynchronously;
/// a query sees every mutation made before it through the same store.
/// After reset() or the endpoint's shutdown every call fails at once with
/// ec::shutting_down.
/// @note Thread-safe.

#include "broker/data.hh"
#include "broker/expected.hh"
#include "broker/time.hh"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace broker {

namespace detail {
class store_actor;
struct store_lease; // keeps a master or clone running while handles exist
} // namespace detail

/// Storage of a master. `rocksdb` is real Broker's third backend, named so
/// that old scripts get a clear error: this build has no RocksDB, and
/// attaching a master with it fails with backend_failure.
enum class backend_type : uint8_t { memory = 0, sqlite = 1, rocksdb = 2 };

/// Topic of local store events (insert, update, erase, expire).
inline constexpr const char* store_events_topic = "<$>/local/data/store-events";

class store {
public:
  using clock = std::chrono::steady_clock;
  using expiry_type = std::optional<timespan>;

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
  /// knows of (master: acknowledged by all clones, and committed; clone: by
  /// the master).
  bool await_idle(clock::time_point deadline);

  /// await_idle with real Broker's default timeout (15 s).
  bool await_idle();

  // -- mutations (asynchronous) -------------------------------------------------
  // Each returns once the mutation is queued. Errors: ec::shutting_down
  // (detached or endpoint shut down), ec::request_timeout (the store is
  // stalled and its queue full). A mutation that fails later, when applied
  // (e.g. ec::type_clash), is reported on the status subscribers.

  using mutation_result = expected<none>;

  mutation_result put(data key, data value, expiry_type expiry = {});
  mutation_result erase(data key);
  mutation_result clear();
  /// Adds `amount` (count, integer, real or timespan) to a number.
  mutation_result increment(data key, data amount, expiry_type expiry = {});
  mutation_result decrement(data key, data amount, expiry_type expiry = {});
  mutation_result append(data key, data str, expiry_type expiry = {});
  /// Inserts into a set (no `value`) or a table.
  mutation_result insert_into(data key, data index, expiry_type expiry = {});
  mutation_result insert_into(data key, data index, data value,
                              expiry_type expiry = {});
  mutation_result remove_from(data key, data index, expiry_type expiry = {});
  mutation_result push(data key, data value, expiry_type expiry = {});
  mutation_result pop(data key, expiry_type expiry = {});

  /// Detaches this handle; once no handle is left, a master stops serving
  /// its clones.
  void reset();

  /// Whether this handle was not reset.
  bool attached() const noexcept {
    return !detached_.load(std::memory_order_acquire);
  }

private:
  friend class endpoint; // makes handles

  store(std::shared_ptr<detail::store_actor> impl,
        std::shared_ptr<detail::store_lease> lease);

  std::shared_ptr<detail::store_actor> impl_;
  std::shared_ptr<detail::store_lease> lease_;
  std::atomic<bool> detached_{false};
};

} // namespace broker
