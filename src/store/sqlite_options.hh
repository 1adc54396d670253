#pragma once

// Options of the SQLite backend (sqlite_backend.hh), as attach_master
// receives them and as they are checked before anything touches the disk.

#include "store/backend.hh"

#include <string>

namespace broker::detail {

struct sqlite_options {
  /// The database file; missing parent directories are created.
  std::string path{};

  /// PRAGMA synchronous: "off", "normal", "full", "extra", or empty for
  /// SQLite's default (as in real Broker).
  std::string synchronous{};

  /// PRAGMA journal_mode: "delete", "truncate", "persist", "memory", "wal",
  /// "off", or empty for SQLite's default.
  std::string journal_mode{};

  /// "fail": a file that is not a database or is corrupt is an error.
  /// "delete": such a file is deleted (with its -wal/-shm/-journal) and a
  /// new, empty database created in its place.
  std::string failure_mode = "fail";

  /// Runs PRAGMA integrity_check on open (slow for large files).
  bool integrity_check = false;

  /// Reads options as `attach_master` passes them: "path" (string),
  /// "synchronous", "journal_mode", "failure_mode" (strings, any case, or
  /// real Broker's enum values such as Broker::SQLITE_JOURNAL_MODE_WAL) and
  /// "integrity_check" (boolean). Unknown keys are ignored.
  /// @returns ec::invalid_data for a missing path or an invalid value.
  static expected<sqlite_options> from(const backend_options& opts);

  /// Lower-cases the choices and checks them: they end up in PRAGMA
  /// statements, so only known words pass.
  /// @returns ec::invalid_data for an empty path or an unknown choice.
  expected<none> normalize();
};

} // namespace broker::detail
