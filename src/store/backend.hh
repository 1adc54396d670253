#pragma once

// The storage interface of a data store's master: one key/value map with
// optional absolute expiry times, implemented in memory (memory_backend.hh)
// and in SQLite (sqlite_backend.hh). Semantics follow real Broker's
// detail/abstract_backend.hh; tests/cpp/store/backend_test.cc is the
// contract both implementations pass.
//
// Every operation returns an `expected`; writes return `expected<none>`.
// A failed write leaves the store unchanged. A backend is not thread-safe:
// it belongs to its store's thread (actor.hh), which serialises all calls.

#include "broker/data.hh"
#include "broker/expected.hh"
#include "broker/time.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace broker::detail {

/// Storage of a master (the API's broker::backend_type maps onto it).
/// `rocksdb` exists so that old scripts get a clear error: this build has
/// no RocksDB.
enum class backend_kind : uint8_t { memory, sqlite, rocksdb };

/// Options for opening a backend, as `attach_master` receives them
/// (e.g. {"path": "/tmp/x.sqlite", "journal_mode": "wal"}).
using backend_options = std::unordered_map<std::string, data>;

/// All key/value pairs of a store.
using snapshot_map = std::unordered_map<data, data>;

/// Keys with an expiry, and when they expire.
using expirables = std::vector<std::pair<data, timestamp>>;

class backend {
public:
  virtual ~backend();

  // -- modifiers ----------------------------------------------------------------

  /// Sets `key` to `value`, replacing any previous value and expiry.
  virtual expected<none> put(const data& key, data value,
                             std::optional<timestamp> expiry = std::nullopt)
    = 0;

  /// Adds `value` to the value at `key`: increments a count, integer, real
  /// or timespan by the same type, a timestamp by a timespan; appends to a
  /// string; inserts an element into a set, a pair [k, v] (a 2-vector) into
  /// a table; pushes onto a vector. A missing key starts from the default
  /// value of `init_type` (0, "", {} ...). On success the key's expiry
  /// becomes `expiry` (none clears it).
  /// @returns ec::type_clash when `value` does not fit the stored type (or
  /// `init_type` is none, boolean ...), ec::invalid_data for a table pair
  /// that is not of size 2; the store is unchanged then.
  virtual expected<none> add(const data& key, const data& value,
                             data_type init_type,
                             std::optional<timestamp> expiry = std::nullopt);

  /// The inverse of `add`: decrements a number (a timestamp by a timespan),
  /// erases an element from a set or a key from a table, pops the last
  /// element of a vector (no-op when empty). Sets the expiry like `add`.
  /// @returns ec::no_such_key for a missing key, ec::type_clash for a
  /// mismatch (strings cannot be subtracted from).
  virtual expected<none> subtract(const data& key, const data& value,
                                  std::optional<timestamp> expiry
                                  = std::nullopt);

  /// Removes `key` (no error when absent).
  virtual expected<none> erase(const data& key) = 0;

  /// Removes every key.
  virtual expected<none> clear() = 0;

  /// Makes every write so far durable (backends that batch commits).
  virtual expected<none> flush() { return none{}; }

  /// Whether writes wait for `flush()` to become durable.
  virtual bool dirty() const noexcept { return false; }

  /// Removes `key` if it has an expiry at or before `now`.
  /// @returns whether the key was removed.
  virtual expected<bool> expire(const data& key, timestamp now) = 0;

  // -- observers ----------------------------------------------------------------

  /// @returns the value at `key`, or ec::no_such_key.
  virtual expected<data> get(const data& key) const = 0;

  /// `get_index_from_value`: for a set, whether `aspect` is an element; for
  /// a table, the value at key `aspect`; for a vector, the element at index
  /// `aspect` (a count or non-negative integer).
  /// @returns ec::no_such_key when `key` is missing, the table has no such
  /// key or the index is out of range; ec::type_clash when the value is not
  /// a container or a vector index is not a count/non-negative integer.
  virtual expected<data> get(const data& key, const data& aspect) const;

  /// @returns whether `key` is present.
  virtual expected<bool> exists(const data& key) const = 0;

  /// @returns the number of keys.
  virtual expected<uint64_t> size() const = 0;

  /// @returns all keys as a `set`.
  virtual expected<data> keys() const = 0;

  /// @returns all key/value pairs.
  virtual expected<snapshot_map> snapshot() const = 0;

  /// @returns every key with an expiry (to re-arm timers after a restart).
  virtual expected<expirables> expiries() const = 0;
};

// -- the value arithmetic behind add/subtract/get, shared by the backends -----

/// @returns the default value of type `t` (0, "", empty containers ...).
data default_of(data_type t);

/// Applies `add` semantics to `x` in place; on error `x` is unchanged.
expected<none> apply_add(data& x, const data& value);

/// Applies `subtract` semantics to `x` in place; on error `x` is unchanged.
expected<none> apply_subtract(data& x, const data& value);

/// `get(key, aspect)` semantics on a stored value `x`.
expected<data> retrieve(const data& x, const data& aspect);

} // namespace broker::detail
