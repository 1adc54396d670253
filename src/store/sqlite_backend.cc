#include "store/sqlite_backend.hh"

#include "store/sqlite_blob.hh"

#include "format/bin/value_codec.hh"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

namespace broker::detail {

namespace {

namespace fs = std::filesystem;

// -- columns -------------------------------------------------------------------

expected<data> column_data(sqlite3_stmt* stmt, int col, const char* what) {
  auto ptr = static_cast<const std::byte*>(sqlite3_column_blob(stmt, col));
  auto len = sqlite3_column_bytes(stmt, col);
  if (ptr == nullptr || len <= 0)
    return error{ec::invalid_data, std::string{"stored "} + what + " is empty"};
  auto x = format::bin::decode(
    std::span<const std::byte>{ptr, static_cast<size_t>(len)});
  if (!x)
    return error{ec::invalid_data, std::string{"stored "} + what
                                     + " is not valid wire-v1 data: "
                                     + x.error().message()};
  return x;
}

int64_t to_nanos(timestamp t) noexcept {
  return t.time_since_epoch().count();
}

bool is_corruption(int rc) noexcept {
  rc &= 0xff;
  return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT;
}

// Resets and unbinds a statement on scope exit, ready for its next use.
class statement_guard {
public:
  explicit statement_guard(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}
  ~statement_guard() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  statement_guard(const statement_guard&) = delete;
  statement_guard& operator=(const statement_guard&) = delete;

private:
  sqlite3_stmt* stmt_;
};

} // namespace

// -- impl ----------------------------------------------------------------------

struct sqlite_backend::impl {
  explicit impl(sqlite_options options) : opts(std::move(options)) {}

  ~impl() {
    commit();
    close();
  }

  // -- group commit ------------------------------------------------------------
  // Writes are batched in one transaction until commit(). One commit per
  // write would cap throughput at the disk's commit rate; the store decides
  // when to commit (store_actor.hh) and holds answers back until then.

  bool in_txn = false;

  expected<none> begin_write() {
    if (in_txn)
      return none{};
    // IMMEDIATE takes the write lock now, waiting for it under the busy
    // timeout; a deferred BEGIN that reads first could fail at once
    // (SQLITE_BUSY_SNAPSHOT) when another connection wrote meanwhile.
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr)
        != SQLITE_OK)
      return db_error("cannot begin a transaction");
    in_txn = true;
    return none{};
  }

  expected<none> commit() {
    if (!in_txn || db == nullptr)
      return none{};
    auto rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    // A failed COMMIT (e.g. SQLITE_BUSY) may leave the transaction open:
    // then the next commit retries it.
    in_txn = sqlite3_get_autocommit(db) == 0;
    if (rc != SQLITE_OK)
      return db_error("commit failed");
    return none{};
  }

  void close() {
    for (auto stmt : statements())
      sqlite3_finalize(*stmt); // accepts nullptr
    for (auto stmt : statements())
      *stmt = nullptr;
    if (db != nullptr) {
      sqlite3_close_v2(db);
      db = nullptr;
    }
  }

  std::array<sqlite3_stmt**, 10> statements() {
    return {&replace_stmt,  &erase_stmt,    &expire_stmt, &lookup_stmt,
            &exists_stmt,   &size_stmt,     &snapshot_stmt, &expiries_stmt,
            &clear_stmt,    &keys_stmt};
  }

  /// An error for the last failed SQLite call, with `what` as context.
  error db_error(std::string_view what) const {
    std::string msg{what};
    msg += " (SQLite database '";
    msg += opts.path;
    msg += "'): ";
    msg += db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    return error{ec::backend_failure, std::move(msg)};
  }

  /// Runs `sql`, collecting the first column of each result row.
  expected<std::vector<std::string>> exec(const std::string& sql) {
    std::vector<std::string> rows;
    auto cb = [](void* arg, int argc, char** argv, char**) {
      auto out = static_cast<std::vector<std::string>*>(arg);
      out->emplace_back(argc > 0 && argv[0] != nullptr ? argv[0] : "");
      return 0;
    };
    auto rc = sqlite3_exec(db, sql.c_str(), cb, &rows, nullptr);
    if (rc != SQLITE_OK) {
      auto bad = is_corruption(rc);
      corrupt = corrupt || bad;
      if (bad)
        return error{ec::backend_failure,
                     "SQLite database '" + opts.path
                       + "' is corrupt or not a database (" + sql
                       + "): " + sqlite3_errmsg(db)};
      return db_error("'" + sql + "' failed");
    }
    return rows;
  }

  /// Opens the file, applies pragmas, checks or creates the schema and
  /// prepares statements. Sets `corrupt` when the file is not a usable
  /// database (as opposed to, say, a version mismatch or a bad path).
  expected<none> init() {
    corrupt = false;
    auto flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (auto rc = sqlite3_open_v2(opts.path.c_str(), &db, flags, nullptr);
        rc != SQLITE_OK) {
      auto err = error{ec::cannot_open_file,
                       "cannot open SQLite database '" + opts.path
                         + "': " + (db ? sqlite3_errmsg(db) : "out of memory")};
      close();
      return err;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    if (!opts.synchronous.empty())
      if (auto res = exec("PRAGMA synchronous=" + opts.synchronous); !res)
        return res.error();
    if (!opts.journal_mode.empty())
      if (auto res = exec("PRAGMA journal_mode=" + opts.journal_mode); !res)
        return res.error();
    if (opts.integrity_check) {
      auto res = exec("PRAGMA integrity_check");
      if (!res)
        return res.error();
      if (res->size() != 1 || res->front() != "ok") {
        corrupt = true;
        std::string msg = "SQLite database '" + opts.path
                          + "' failed its integrity check";
        for (size_t i = 0; i < res->size() && i < 3; ++i)
          msg += (i == 0 ? ": " : "; ") + (*res)[i];
        return error{ec::backend_failure, std::move(msg)};
      }
    }
    if (auto res = check_schema(); !res) {
      exec("ROLLBACK"); // keep the error of check_schema
      return res;
    }
    return prepare();
  }

  expected<none> check_schema() {
    // Inside one write transaction, so that a fresh file gets its tables
    // and version atomically (and two openers do not race).
    if (auto res = exec("BEGIN IMMEDIATE"); !res)
      return res.error();
    auto tables = exec("SELECT name FROM sqlite_master WHERE type='table'");
    if (!tables)
      return tables.error();
    auto has = [&](std::string_view name) {
      return std::find(tables->begin(), tables->end(), name) != tables->end();
    };
    auto version_query = [&](std::string_view key) {
      return "SELECT value FROM meta WHERE key='" + std::string{key} + "'";
    };
    if (!tables->empty()) {
      std::string found;
      std::string hint;
      if (has("meta")) {
        auto rows = exec(version_query(sqlite_backend::format_key));
        if (!rows)
          return rows.error();
        if (!rows->empty())
          found = rows->front();
        if (auto other = exec(version_query("broker_version"));
            other && !other->empty())
          hint = " (its meta broker_version is '" + other->front()
                 + "': written by real Broker?)";
      }
      if (found != sqlite_backend::format_version) {
        std::string msg = "SQLite database '" + opts.path + "' has format version ";
        msg += found.empty() ? std::string{"none"} : "'" + found + "'";
        msg += ", expected '";
        msg += sqlite_backend::format_version;
        msg += "'";
        msg += hint;
        return error{ec::backend_failure, std::move(msg)};
      }
    }
    if (auto res = exec("CREATE TABLE IF NOT EXISTS meta"
                        "(key text primary key, value text)");
        !res)
      return res.error();
    if (auto res = exec("CREATE TABLE IF NOT EXISTS store"
                        "(key blob primary key, value blob, expiry integer)");
        !res)
      return res.error();
    if (tables->empty()) {
      auto sql = "INSERT INTO meta(key, value) VALUES('"
                 + std::string{sqlite_backend::format_key} + "', '"
                 + std::string{sqlite_backend::format_version} + "')";
      if (auto res = exec(sql); !res)
        return res.error();
    }
    if (auto res = exec("COMMIT"); !res)
      return res.error();
    return none{};
  }

  expected<none> prepare() {
    std::pair<sqlite3_stmt**, const char*> defs[] = {
      {&replace_stmt,
       "REPLACE INTO store(key, value, expiry) VALUES(?, ?, ?)"},
      {&erase_stmt, "DELETE FROM store WHERE key = ?"},
      {&expire_stmt, "DELETE FROM store WHERE key = ? AND expiry <= ?"},
      {&lookup_stmt, "SELECT value FROM store WHERE key = ?"},
      {&exists_stmt, "SELECT 1 FROM store WHERE key = ?"},
      {&size_stmt, "SELECT count(*) FROM store"},
      {&snapshot_stmt, "SELECT key, value FROM store"},
      {&expiries_stmt,
       "SELECT key, expiry FROM store WHERE expiry IS NOT NULL"},
      {&clear_stmt, "DELETE FROM store"},
      {&keys_stmt, "SELECT key FROM store"},
    };
    for (auto& [stmt, sql] : defs)
      if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                             nullptr)
          != SQLITE_OK)
        return db_error(std::string{"cannot prepare '"} + sql + "'");
    return none{};
  }

  /// Binds `x` as a key blob to parameter `i` of `stmt`; `buf` must outlive
  /// the statement's execution.
  expected<none> bind_key(sqlite3_stmt* stmt, int i, const data& x,
                          format::bin::byte_buffer& buf) {
    auto blob = key_blob(x);
    if (!blob)
      return blob.error();
    buf = std::move(*blob);
    return bind_blob(stmt, i, buf);
  }

  expected<none> bind_blob(sqlite3_stmt* stmt, int i,
                           const format::bin::byte_buffer& buf) {
    if (sqlite3_bind_blob64(stmt, i, buf.data(), buf.size(), SQLITE_STATIC)
        != SQLITE_OK)
      return db_error("cannot bind a parameter");
    return none{};
  }

  /// Steps a statement that returns no rows.
  expected<none> run(sqlite3_stmt* stmt, std::string_view what) {
    if (sqlite3_step(stmt) == SQLITE_DONE)
      return none{};
    auto err = db_error(what);
    if (in_txn && sqlite3_get_autocommit(db) != 0) {
      // Some errors (SQLITE_FULL, SQLITE_IOERR ...) roll back the whole
      // transaction: the writes batched in it are gone too.
      in_txn = false;
      return error{err.code(), err.message()
                                 + " (the uncommitted writes before it were "
                                   "rolled back)"};
    }
    return err;
  }

  sqlite_options opts;
  sqlite3* db = nullptr;
  bool corrupt = false;
  sqlite3_stmt* replace_stmt = nullptr;
  sqlite3_stmt* erase_stmt = nullptr;
  sqlite3_stmt* expire_stmt = nullptr;
  sqlite3_stmt* lookup_stmt = nullptr;
  sqlite3_stmt* exists_stmt = nullptr;
  sqlite3_stmt* size_stmt = nullptr;
  sqlite3_stmt* snapshot_stmt = nullptr;
  sqlite3_stmt* expiries_stmt = nullptr;
  sqlite3_stmt* clear_stmt = nullptr;
  sqlite3_stmt* keys_stmt = nullptr;
};

// -- construction ----------------------------------------------------------------

expected<std::unique_ptr<sqlite_backend>>
sqlite_backend::open(sqlite_options opts) {
  if (auto ok = opts.normalize(); !ok)
    return ok.error();
  fs::path path{opts.path};
  if (path.has_parent_path()) {
    std::error_code err;
    fs::create_directories(path.parent_path(), err);
    if (err)
      return error{ec::cannot_open_file,
                   "cannot create the directory of SQLite database '"
                     + opts.path + "': " + err.message()};
  }
  auto st = std::make_unique<impl>(std::move(opts));
  auto res = st->init();
  if (!res) {
    st->close();
    if (!st->corrupt || st->opts.failure_mode != "delete")
      return res.error();
    // failure_mode=delete: remove the unusable file and start afresh.
    std::error_code err;
    if (!fs::is_regular_file(path, err))
      return res.error();
    for (auto suffix : {"", "-wal", "-shm", "-journal"}) {
      fs::remove(fs::path{st->opts.path + suffix}, err);
      if (err)
        return error{ec::backend_failure,
                     res.error().message() + "; deleting it failed: "
                       + err.message()};
    }
    if (auto again = st->init(); !again) {
      st->close();
      return error{again.error().code(),
                   "after deleting a corrupt database: "
                     + again.error().message()};
    }
  }
  return std::unique_ptr<sqlite_backend>{new sqlite_backend(std::move(st))};
}

sqlite_backend::sqlite_backend(std::unique_ptr<impl> ptr)
  : impl_(std::move(ptr)) {}

sqlite_backend::~sqlite_backend() = default;

expected<none> sqlite_backend::flush() {
  return impl_->commit();
}

bool sqlite_backend::dirty() const noexcept {
  return impl_->in_txn;
}

const sqlite_options& sqlite_backend::options() const noexcept {
  return impl_->opts;
}

// -- modifiers -------------------------------------------------------------------

expected<none> sqlite_backend::put(const data& key, data value,
                                   std::optional<timestamp> expiry) {
  if (auto res = impl_->begin_write(); !res)
    return res;
  auto stmt = impl_->replace_stmt;
  statement_guard guard{stmt};
  format::bin::byte_buffer kbuf;
  if (auto res = impl_->bind_key(stmt, 1, key, kbuf); !res)
    return res;
  auto vbuf = to_blob(value);
  if (!vbuf)
    return vbuf.error();
  if (auto res = impl_->bind_blob(stmt, 2, *vbuf); !res)
    return res;
  auto rc = expiry ? sqlite3_bind_int64(stmt, 3, to_nanos(*expiry))
                   : sqlite3_bind_null(stmt, 3);
  if (rc != SQLITE_OK)
    return impl_->db_error("cannot bind a parameter");
  auto res = impl_->run(stmt, "put failed");
  return res;
}

expected<none> sqlite_backend::erase(const data& key) {
  if (auto res = impl_->begin_write(); !res)
    return res;
  auto stmt = impl_->erase_stmt;
  statement_guard guard{stmt};
  format::bin::byte_buffer kbuf;
  if (auto res = impl_->bind_key(stmt, 1, key, kbuf); !res)
    return res;
  auto res = impl_->run(stmt, "erase failed");
  return res;
}

expected<none> sqlite_backend::clear() {
  if (auto res = impl_->begin_write(); !res)
    return res;
  auto stmt = impl_->clear_stmt;
  statement_guard guard{stmt};
  auto res = impl_->run(stmt, "clear failed");
  return res;
}

expected<bool> sqlite_backend::expire(const data& key, timestamp now) {
  if (auto res = impl_->begin_write(); !res)
    return res.error();
  auto stmt = impl_->expire_stmt;
  statement_guard guard{stmt};
  format::bin::byte_buffer kbuf;
  if (auto res = impl_->bind_key(stmt, 1, key, kbuf); !res)
    return res.error();
  if (sqlite3_bind_int64(stmt, 2, to_nanos(now)) != SQLITE_OK)
    return impl_->db_error("cannot bind a parameter");
  if (auto res = impl_->run(stmt, "expire failed"); !res)
    return res.error();
  return sqlite3_changes(impl_->db) > 0;
}

// -- observers -------------------------------------------------------------------

expected<data> sqlite_backend::get(const data& key) const {
  auto stmt = impl_->lookup_stmt;
  statement_guard guard{stmt};
  format::bin::byte_buffer kbuf;
  if (auto res = impl_->bind_key(stmt, 1, key, kbuf); !res)
    return res.error();
  switch (sqlite3_step(stmt)) {
    case SQLITE_ROW:
      return column_data(stmt, 0, "value");
    case SQLITE_DONE:
      return error{ec::no_such_key, "no such key: " + to_string(key)};
    default:
      return impl_->db_error("get failed");
  }
}

expected<bool> sqlite_backend::exists(const data& key) const {
  auto stmt = impl_->exists_stmt;
  statement_guard guard{stmt};
  format::bin::byte_buffer kbuf;
  if (auto res = impl_->bind_key(stmt, 1, key, kbuf); !res)
    return res.error();
  switch (sqlite3_step(stmt)) {
    case SQLITE_ROW:
      return true;
    case SQLITE_DONE:
      return false;
    default:
      return impl_->db_error("exists failed");
  }
}

expected<uint64_t> sqlite_backend::size() const {
  auto stmt = impl_->size_stmt;
  statement_guard guard{stmt};
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return impl_->db_error("size failed");
  return static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
}

expected<data> sqlite_backend::keys() const {
  auto stmt = impl_->keys_stmt;
  statement_guard guard{stmt};
  set result;
  for (;;) {
    auto rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
      return data{std::move(result)};
    if (rc != SQLITE_ROW)
      return impl_->db_error("keys failed");
    auto key = column_data(stmt, 0, "key");
    if (!key)
      return key;
    result.insert(std::move(*key));
  }
}

expected<snapshot_map> sqlite_backend::snapshot() const {
  auto stmt = impl_->snapshot_stmt;
  statement_guard guard{stmt};
  snapshot_map result;
  for (;;) {
    auto rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
      return result;
    if (rc != SQLITE_ROW)
      return impl_->db_error("snapshot failed");
    auto key = column_data(stmt, 0, "key");
    if (!key)
      return key.error();
    auto value = column_data(stmt, 1, "value");
    if (!value)
      return value.error();
    result.emplace(std::move(*key), std::move(*value));
  }
}

expected<expirables> sqlite_backend::expiries() const {
  auto stmt = impl_->expiries_stmt;
  statement_guard guard{stmt};
  expirables result;
  for (;;) {
    auto rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
      return result;
    if (rc != SQLITE_ROW)
      return impl_->db_error("expiries failed");
    auto key = column_data(stmt, 0, "key");
    if (!key)
      return key.error();
    result.emplace_back(std::move(*key),
                        timestamp{timespan{sqlite3_column_int64(stmt, 1)}});
  }
}

} // namespace broker::detail
