#pragma once

// A durable backend in an SQLite file (SPEC §7). Schema:
//
//   store(key blob primary key, value blob, expiry integer)
//   meta(key text primary key, value text)
//
// Keys and values are BLOBs in wire format v1's value encoding
// (format/bin/value_codec.hh); expiry is nanoseconds since the epoch or
// NULL. The row meta('broker_format') holds `format_version`; opening a
// database that has tables but a different or no format version fails with
// ec::backend_failure naming both versions (and never deletes it, whatever
// the failure mode). Real Broker's file layout is the same, but it records
// only its release number under meta('broker_version'), so its files are
// refused rather than guessed at.
//
// Writes go into one open transaction that flush() commits (the master
// calls it when its mailbox runs empty: group commit, master.hh); dirty()
// says whether there is one. A crash loses the uncommitted writes, never
// part of one. synchronous/journal_mode choose durability against power
// loss ("wal" plus "normal" is the fast choice). Statements are prepared
// once.

#include "store/backend.hh"
#include "store/sqlite_options.hh"

#include <memory>
#include <string>
#include <string_view>

namespace broker::detail {

class sqlite_backend final : public backend {
public:
  /// The format recorded in (and required of) every database file.
  static constexpr std::string_view format_version = "broker-wire-v1:1";

  /// The meta table key under which `format_version` is stored.
  static constexpr std::string_view format_key = "broker_format";

  /// Opens or creates the database at `opts.path`.
  /// @returns ec::invalid_data for invalid options, ec::cannot_open_file
  /// when SQLite cannot open the path, ec::backend_failure for a corrupt
  /// file, a failed integrity check or a format version mismatch.
  static expected<std::unique_ptr<sqlite_backend>> open(sqlite_options opts);

  ~sqlite_backend() override;

  /// Commits the writes batched so far.
  expected<none> flush() override;

  bool dirty() const noexcept override;

  sqlite_backend(const sqlite_backend&) = delete;
  sqlite_backend& operator=(const sqlite_backend&) = delete;

  const sqlite_options& options() const noexcept;

  expected<none> put(const data& key, data value,
                     std::optional<timestamp> expiry) override;

  expected<none> erase(const data& key) override;

  expected<none> clear() override;

  expected<bool> expire(const data& key, timestamp now) override;

  expected<data> get(const data& key) const override;

  using backend::get;

  expected<bool> exists(const data& key) const override;

  expected<uint64_t> size() const override;

  expected<data> keys() const override;

  expected<snapshot_map> snapshot() const override;

  expected<expirables> expiries() const override;

private:
  struct impl;

  explicit sqlite_backend(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace broker::detail
