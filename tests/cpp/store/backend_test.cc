// The backend contract: every case runs against the memory backend and the
// SQLite backend (default pragmas, and WAL + synchronous=normal), then
// SQLite-only cases for files: reopen, format version, corruption, options.
#include "store/backend.hh"
#include "store/memory_backend.hh"
#include "store/sqlite_backend.hh"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>

using namespace broker;
using namespace broker::detail;
using namespace std::chrono_literals;

namespace fs = std::filesystem;

namespace {

std::string make_temp_dir() {
  auto tmpl = (fs::temp_directory_path() / "broker-backend-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

timestamp ts(int64_t ns) {
  return timestamp{timespan{ns}};
}

data vec(std::initializer_list<data> xs) {
  return vector(xs);
}

address v4(const char* text) {
  return *address::parse(text);
}

/// One value of each of the 15 types, with nested containers.
std::vector<data> all_types() {
  return {
    data{},
    data{true},
    data{count{42}},
    data{integer{-7}},
    data{real{2.5}},
    data{std::string{"text with \0 nul", 15}},
    data{v4("192.168.1.1")},
    data{*subnet::parse("10.0.0.0/8")},
    data{port{443, port::protocol::tcp}},
    data{ts(1'700'000'000'123'456'789)},
    data{timespan{-5s}},
    data{enum_value{"Foo::BAR"}},
    data{set{data{1}, data{"x"}, data{vec({data{2.0}})}}},
    data{table{{data{"a"}, data{set{data{count{1}}}}}, {data{2}, data{}}}},
    vec({data{}, data{false}, data{table{}}, data{vec({})}}),
  };
}

data stored(const expected<data>& x) {
  EXPECT_TRUE(x) << x.error().to_string();
  return x ? *x : data{};
}

ec code_of(const expected<none>& x) {
  return x ? ec::none : x.error().code();
}

template <class T>
ec code_of(const expected<T>& x) {
  return x ? ec::none : x.error().code();
}

std::unique_ptr<sqlite_backend> open_sqlite(sqlite_options opts) {
  auto b = sqlite_backend::open(std::move(opts));
  EXPECT_TRUE(b) << b.error().to_string();
  return b ? std::move(*b) : nullptr;
}

/// Runs SQL on a file through a separate raw connection.
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* msg = nullptr;
  auto rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  EXPECT_EQ(rc, SQLITE_OK) << (msg ? msg : "");
  sqlite3_free(msg);
  sqlite3_close(db);
}

/// Returns the first column of the first row of `sql`, run on a separate
/// raw connection.
std::string raw_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string result = "<none>";
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

// -- the backends under test ---------------------------------------------------

struct MemoryBackend {
  static std::unique_ptr<backend> make(const std::string&) {
    return std::make_unique<memory_backend>();
  }
};

struct SqliteBackend {
  static std::unique_ptr<backend> make(const std::string& dir) {
    return open_sqlite({.path = dir + "/store.sqlite"});
  }
};

struct SqliteWalBackend {
  static std::unique_ptr<backend> make(const std::string& dir) {
    return open_sqlite({.path = dir + "/store.sqlite",
                        .synchronous = "normal",
                        .journal_mode = "wal"});
  }
};

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, MemoryBackend>)
      return "Memory";
    else if constexpr (std::is_same_v<T, SqliteBackend>)
      return "Sqlite";
    else
      return "SqliteWal";
  }
};

template <class Maker>
class BackendContract : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    b_ = Maker::make(dir_);
    ASSERT_NE(b_, nullptr);
  }

  void TearDown() override {
    b_.reset();
    std::error_code err;
    fs::remove_all(dir_, err);
  }

  backend& b() {
    return *b_;
  }

  std::string dir_;
  std::unique_ptr<backend> b_;
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend,
                                  SqliteWalBackend>;
TYPED_TEST_SUITE(BackendContract, Backends, BackendNames);

} // namespace

// -- basic operations ----------------------------------------------------------

TYPED_TEST(BackendContract, PutGetExistsSize) {
  auto& b = this->b();
  EXPECT_EQ(*b.size(), 0u);
  ASSERT_TRUE(b.put("a", 1, std::nullopt));
  ASSERT_TRUE(b.put("b", "x", std::nullopt));
  EXPECT_EQ(stored(b.get("a")), data{1});
  EXPECT_EQ(stored(b.get("b")), data{"x"});
  EXPECT_TRUE(*b.exists("a"));
  EXPECT_FALSE(*b.exists("c"));
  EXPECT_EQ(*b.size(), 2u);
  ASSERT_TRUE(b.put("a", 2.5, std::nullopt)); // overwrite
  EXPECT_EQ(stored(b.get("a")), data{2.5});
  EXPECT_EQ(*b.size(), 2u);
}

TYPED_TEST(BackendContract, GetMissingIsNoSuchKey) {
  auto& b = this->b();
  EXPECT_EQ(code_of(b.get("nope")), ec::no_such_key);
  EXPECT_EQ(code_of(b.get("nope", 0)), ec::no_such_key);
}

TYPED_TEST(BackendContract, EraseAndClear) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("a", 1, std::nullopt));
  ASSERT_TRUE(b.put("b", 2, std::nullopt));
  ASSERT_TRUE(b.erase("a"));
  EXPECT_FALSE(*b.exists("a"));
  EXPECT_TRUE(b.erase("a")); // erasing a missing key is no error
  EXPECT_EQ(*b.size(), 1u);
  ASSERT_TRUE(b.clear());
  EXPECT_EQ(*b.size(), 0u);
  EXPECT_EQ(stored(b.keys()), data{set{}});
}

TYPED_TEST(BackendContract, KeysSnapshotAndExpiries) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("a", 1, std::nullopt));
  ASSERT_TRUE(b.put(2, vec({data{"x"}}), ts(100)));
  ASSERT_TRUE(b.put(vec({data{1}, data{2}}), set{}, ts(-5)));
  EXPECT_EQ(stored(b.keys()),
            data(set{data{"a"}, data{2}, vec({data{1}, data{2}})}));
  auto snap = b.snapshot();
  ASSERT_TRUE(snap);
  EXPECT_EQ(*snap, (snapshot_map{{data{"a"}, data{1}},
                                 {data{2}, vec({data{"x"}})},
                                 {vec({data{1}, data{2}}), data{set{}}}}));
  auto exp = b.expiries();
  ASSERT_TRUE(exp);
  std::sort(exp->begin(), exp->end());
  EXPECT_EQ(*exp, (expirables{{data{2}, ts(100)},
                              {vec({data{1}, data{2}}), ts(-5)}}));
}

// -- add -------------------------------------------------------------------------

TYPED_TEST(BackendContract, AddIncrementsNumbers) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("c", count{5}, std::nullopt));
  ASSERT_TRUE(b.add("c", count{3}, data_type::count, std::nullopt));
  EXPECT_EQ(stored(b.get("c")), data{count{8}});
  ASSERT_TRUE(b.add("i", integer{-3}, data_type::integer, std::nullopt));
  ASSERT_TRUE(b.add("i", integer{10}, data_type::integer, std::nullopt));
  EXPECT_EQ(stored(b.get("i")), data{integer{7}});
  ASSERT_TRUE(b.add("r", 1.5, data_type::real, std::nullopt));
  ASSERT_TRUE(b.add("r", 1.0, data_type::real, std::nullopt));
  EXPECT_EQ(stored(b.get("r")), data{2.5});
  ASSERT_TRUE(b.add("s", timespan{2s}, data_type::timespan, std::nullopt));
  ASSERT_TRUE(b.add("s", timespan{3s}, data_type::timespan, std::nullopt));
  EXPECT_EQ(stored(b.get("s")), data{timespan{5s}});
  ASSERT_TRUE(b.put("t", ts(1000), std::nullopt));
  ASSERT_TRUE(b.add("t", timespan{500}, data_type::timestamp, std::nullopt));
  EXPECT_EQ(stored(b.get("t")), data{ts(1500)});
  // Integers wrap instead of overflowing.
  ASSERT_TRUE(b.put("max", std::numeric_limits<integer>::max(), std::nullopt));
  ASSERT_TRUE(b.add("max", integer{1}, data_type::integer, std::nullopt));
  EXPECT_EQ(stored(b.get("max")), data{std::numeric_limits<integer>::min()});
}

TYPED_TEST(BackendContract, AddAppendsInsertsAndPushes) {
  auto& b = this->b();
  ASSERT_TRUE(b.add("str", "foo", data_type::string, std::nullopt));
  ASSERT_TRUE(b.add("str", "bar", data_type::string, std::nullopt));
  EXPECT_EQ(stored(b.get("str")), data{"foobar"});
  ASSERT_TRUE(b.add("set", 1, data_type::set, std::nullopt));
  ASSERT_TRUE(b.add("set", "x", data_type::set, std::nullopt));
  ASSERT_TRUE(b.add("set", 1, data_type::set, std::nullopt));
  EXPECT_EQ(stored(b.get("set")), data(set{data{1}, data{"x"}}));
  ASSERT_TRUE(b.add("tbl", vec({data{"k"}, data{1}}), data_type::table,
                    std::nullopt));
  ASSERT_TRUE(b.add("tbl", vec({data{"k"}, data{2}}), data_type::table,
                    std::nullopt));
  ASSERT_TRUE(b.add("tbl", vec({data{3}, data{}}), data_type::table,
                    std::nullopt));
  EXPECT_EQ(stored(b.get("tbl")),
            data(table{{data{"k"}, data{2}}, {data{3}, data{}}}));
  ASSERT_TRUE(b.add("vec", 1, data_type::vector, std::nullopt));
  ASSERT_TRUE(b.add("vec", vec({data{2}}), data_type::vector, std::nullopt));
  EXPECT_EQ(stored(b.get("vec")), vec({data{1}, vec({data{2}})}));
}

TYPED_TEST(BackendContract, AddTableNeedsAPair) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("tbl", table{{data{1}, data{2}}}, std::nullopt));
  EXPECT_EQ(code_of(b.add("tbl", 5, data_type::table, std::nullopt)),
            ec::type_clash);
  EXPECT_EQ(code_of(b.add("tbl", vec({data{1}}), data_type::table,
                          std::nullopt)),
            ec::invalid_data);
  EXPECT_EQ(stored(b.get("tbl")), data(table{{data{1}, data{2}}}));
  EXPECT_EQ(code_of(b.add("new", vec({data{1}, data{2}, data{3}}),
                          data_type::table, std::nullopt)),
            ec::invalid_data);
  EXPECT_FALSE(*b.exists("new"));
}

TYPED_TEST(BackendContract, TypeClashLeavesStoreUnchanged) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("str", "abc", ts(77)));
  ASSERT_TRUE(b.put("cnt", count{1}, std::nullopt));
  ASSERT_TRUE(b.put("flag", true, std::nullopt));
  ASSERT_TRUE(b.put("t", ts(10), std::nullopt));
  auto before = b.snapshot();
  ASSERT_TRUE(before);
  auto clash = [](const expected<none>& x) { return code_of(x) == ec::type_clash; };
  EXPECT_TRUE(clash(b.add("str", count{1}, data_type::count, ts(99))));
  EXPECT_TRUE(clash(b.add("cnt", integer{1}, data_type::integer, ts(99))));
  EXPECT_TRUE(clash(b.add("cnt", 1.0, data_type::real, ts(99))));
  EXPECT_TRUE(clash(b.add("flag", true, data_type::boolean, ts(99))));
  EXPECT_TRUE(clash(b.add("t", ts(1), data_type::timestamp, ts(99))));
  EXPECT_TRUE(clash(b.subtract("str", "c", ts(99))));
  EXPECT_TRUE(clash(b.subtract("cnt", integer{1}, ts(99))));
  EXPECT_TRUE(clash(b.subtract("flag", true, ts(99))));
  // A missing key whose init type cannot be added to stays missing.
  EXPECT_TRUE(clash(b.add("new", 1, data_type::none, ts(99))));
  EXPECT_TRUE(clash(b.add("new", 1, data_type::count, ts(99))));
  EXPECT_TRUE(clash(b.add("new", "x", data_type::address, ts(99))));
  EXPECT_FALSE(*b.exists("new"));
  EXPECT_EQ(*b.snapshot(), *before);
  auto exp = b.expiries();
  ASSERT_TRUE(exp);
  EXPECT_EQ(*exp, (expirables{{data{"str"}, ts(77)}}));
}

// -- subtract ------------------------------------------------------------------

TYPED_TEST(BackendContract, SubtractDecrementsErasesAndPops) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("c", count{5}, std::nullopt));
  ASSERT_TRUE(b.subtract("c", count{2}, std::nullopt));
  EXPECT_EQ(stored(b.get("c")), data{count{3}});
  ASSERT_TRUE(b.put("i", integer{5}, std::nullopt));
  ASSERT_TRUE(b.subtract("i", integer{7}, std::nullopt));
  EXPECT_EQ(stored(b.get("i")), data{integer{-2}});
  ASSERT_TRUE(b.put("r", 1.0, std::nullopt));
  ASSERT_TRUE(b.subtract("r", 0.25, std::nullopt));
  EXPECT_EQ(stored(b.get("r")), data{0.75});
  ASSERT_TRUE(b.put("s", timespan{5s}, std::nullopt));
  ASSERT_TRUE(b.subtract("s", timespan{1s}, std::nullopt));
  EXPECT_EQ(stored(b.get("s")), data{timespan{4s}});
  ASSERT_TRUE(b.put("t", ts(100), std::nullopt));
  ASSERT_TRUE(b.subtract("t", timespan{30}, std::nullopt));
  EXPECT_EQ(stored(b.get("t")), data{ts(70)});
  ASSERT_TRUE(b.put("set", set{data{1}, data{2}}, std::nullopt));
  ASSERT_TRUE(b.subtract("set", 1, std::nullopt));
  ASSERT_TRUE(b.subtract("set", 99, std::nullopt)); // absent element: no-op
  EXPECT_EQ(stored(b.get("set")), data(set{data{2}}));
  ASSERT_TRUE(b.put("tbl", table{{data{"a"}, data{1}}, {data{"b"}, data{2}}},
                    std::nullopt));
  ASSERT_TRUE(b.subtract("tbl", "a", std::nullopt));
  EXPECT_EQ(stored(b.get("tbl")), data(table{{data{"b"}, data{2}}}));
  ASSERT_TRUE(b.put("vec", vec({data{1}, data{2}}), std::nullopt));
  ASSERT_TRUE(b.subtract("vec", data{}, std::nullopt));
  EXPECT_EQ(stored(b.get("vec")), vec({data{1}}));
  ASSERT_TRUE(b.subtract("vec", data{}, std::nullopt));
  ASSERT_TRUE(b.subtract("vec", data{}, std::nullopt)); // pop on empty: no-op
  EXPECT_EQ(stored(b.get("vec")), vec({}));
}

TYPED_TEST(BackendContract, SubtractMissingIsNoSuchKey) {
  auto& b = this->b();
  EXPECT_EQ(code_of(b.subtract("nope", 1, std::nullopt)), ec::no_such_key);
  EXPECT_FALSE(*b.exists("nope"));
}

TYPED_TEST(BackendContract, AddAndSubtractSetTheExpiry) {
  auto& b = this->b();
  ASSERT_TRUE(b.add("c", count{1}, data_type::count, ts(50)));
  EXPECT_EQ(*b.expiries(), (expirables{{data{"c"}, ts(50)}}));
  ASSERT_TRUE(b.add("c", count{1}, data_type::count, ts(60)));
  EXPECT_EQ(*b.expiries(), (expirables{{data{"c"}, ts(60)}}));
  ASSERT_TRUE(b.subtract("c", count{1}, std::nullopt));
  EXPECT_TRUE(b.expiries()->empty());
  EXPECT_EQ(stored(b.get("c")), data{count{1}});
}

// -- expiry ----------------------------------------------------------------------

TYPED_TEST(BackendContract, ExpireOnlyWhenDue) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("e", 1, ts(1000)));
  ASSERT_TRUE(b.put("forever", 2, std::nullopt));
  EXPECT_FALSE(*b.expire("e", ts(999)));
  EXPECT_TRUE(*b.exists("e"));
  EXPECT_TRUE(*b.expire("e", ts(1000)));
  EXPECT_FALSE(*b.exists("e"));
  EXPECT_FALSE(*b.expire("e", ts(2000))); // already gone
  EXPECT_FALSE(*b.expire("forever", ts(std::numeric_limits<int64_t>::max())));
  EXPECT_TRUE(*b.exists("forever"));
  // A put without expiry clears the previous one.
  ASSERT_TRUE(b.put("x", 1, ts(10)));
  ASSERT_TRUE(b.put("x", 2, std::nullopt));
  EXPECT_FALSE(*b.expire("x", ts(20)));
  EXPECT_EQ(stored(b.get("x")), data{2});
  // A later put moves it.
  ASSERT_TRUE(b.put("y", 1, ts(10)));
  ASSERT_TRUE(b.put("y", 1, ts(30)));
  EXPECT_FALSE(*b.expire("y", ts(20)));
  EXPECT_TRUE(*b.expire("y", ts(40)));
}

// -- get with aspect (get_index_from_value) ---------------------------------------

TYPED_TEST(BackendContract, GetWithAspect) {
  auto& b = this->b();
  ASSERT_TRUE(b.put("set", set{data{1}, data{"x"}}, std::nullopt));
  ASSERT_TRUE(b.put("tbl", table{{data{"k"}, data{"v"}}}, std::nullopt));
  ASSERT_TRUE(b.put("vec", vec({data{"a"}, data{"b"}}), std::nullopt));
  ASSERT_TRUE(b.put("num", 5, std::nullopt));
  EXPECT_EQ(stored(b.get("set", 1)), data{true});
  EXPECT_EQ(stored(b.get("set", 2)), data{false});
  EXPECT_EQ(stored(b.get("tbl", "k")), data{"v"});
  EXPECT_EQ(code_of(b.get("tbl", "nope")), ec::no_such_key);
  EXPECT_EQ(stored(b.get("vec", count{1})), data{"b"});
  EXPECT_EQ(stored(b.get("vec", integer{0})), data{"a"});
  EXPECT_EQ(code_of(b.get("vec", count{2})), ec::no_such_key);
  EXPECT_EQ(code_of(b.get("vec", integer{-1})), ec::type_clash);
  EXPECT_EQ(code_of(b.get("vec", "0")), ec::type_clash);
  EXPECT_EQ(code_of(b.get("num", 0)), ec::type_clash);
  EXPECT_EQ(code_of(b.get("missing", 0)), ec::no_such_key);
}

// -- values ------------------------------------------------------------------------

TYPED_TEST(BackendContract, AllTypesRoundTripAsKeysAndValues) {
  auto& b = this->b();
  auto xs = all_types();
  ASSERT_EQ(xs.size(), 15u);
  for (size_t i = 0; i < xs.size(); ++i) {
    ASSERT_EQ(static_cast<size_t>(xs[i].get_type()), i);
    ASSERT_TRUE(b.put(xs[i], xs[i], std::nullopt)) << to_string(xs[i]);
  }
  EXPECT_EQ(*b.size(), 15u);
  for (auto& x : xs) {
    EXPECT_EQ(stored(b.get(x)), x) << to_string(x);
    EXPECT_EQ(stored(b.get(x)).get_type(), x.get_type());
  }
  auto snap = b.snapshot();
  ASSERT_TRUE(snap);
  for (auto& x : xs)
    EXPECT_EQ(snap->at(x), x);
}

TYPED_TEST(BackendContract, SpecialRealsAndNegativeZeroKeys) {
  auto& b = this->b();
  auto nan = std::numeric_limits<double>::quiet_NaN();
  auto inf = std::numeric_limits<double>::infinity();
  ASSERT_TRUE(b.put("nan", nan, std::nullopt));
  ASSERT_TRUE(b.put("inf", vec({data{inf}, data{-inf}}), std::nullopt));
  data got = stored(b.get("nan"));
  ASSERT_TRUE(got.is<real>());
  EXPECT_TRUE(std::isnan(got.get<real>()));
  EXPECT_EQ(stored(b.get("inf")), vec({data{inf}, data{-inf}}));
  // -0.0 and 0.0 are the same key.
  ASSERT_TRUE(b.put(-0.0, "neg", std::nullopt));
  ASSERT_TRUE(b.put(0.0, "pos", std::nullopt));
  EXPECT_EQ(stored(b.get(-0.0)), data{"pos"});
  ASSERT_TRUE(b.put(vec({data{-0.0}}), 1, std::nullopt));
  EXPECT_TRUE(*b.exists(vec({data{0.0}})));
  EXPECT_EQ(*b.size(), 4u);
}

// -- SQLite files ----------------------------------------------------------------

namespace {

class SqliteBackendFile : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    path_ = dir_ + "/store.sqlite";
  }

  void TearDown() override {
    std::error_code err;
    fs::remove_all(dir_, err);
  }

  void write_file(const std::string& content) {
    std::ofstream out{path_, std::ios::binary | std::ios::trunc};
    out << content;
  }

  std::string dir_;
  std::string path_;
};

} // namespace

TEST_F(SqliteBackendFile, ReopenKeepsDataAndExpiries) {
  for (auto journal : {"", "wal"}) {
    auto path = dir_ + "/reopen-" + journal + ".sqlite";
    {
      auto b = open_sqlite({.path = path, .journal_mode = journal});
      ASSERT_NE(b, nullptr);
      ASSERT_TRUE(b->put("a", 1, std::nullopt));
      ASSERT_TRUE(b->put("b", set{data{"x"}}, ts(123456789)));
      ASSERT_TRUE(b->add("c", count{3}, data_type::count, ts(5)));
      for (auto& x : all_types())
        ASSERT_TRUE(b->put(vec({x}), x, std::nullopt));
    }
    auto b = open_sqlite({.path = path, .journal_mode = journal});
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(stored(b->get("a")), data{1});
    EXPECT_EQ(stored(b->get("b")), data(set{data{"x"}}));
    EXPECT_EQ(stored(b->get("c")), data{count{3}});
    for (auto& x : all_types())
      EXPECT_EQ(stored(b->get(vec({x}))), x);
    auto exp = b->expiries();
    ASSERT_TRUE(exp);
    std::sort(exp->begin(), exp->end());
    EXPECT_EQ(*exp, (expirables{{data{"b"}, ts(123456789)},
                                {data{"c"}, ts(5)}}));
    EXPECT_TRUE(*b->expire("c", ts(5)));
  }
}

TEST_F(SqliteBackendFile, WritesAreCommittedByFlush) {
  auto b = open_sqlite({.path = path_, .synchronous = "normal",
                        .journal_mode = "wal"});
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->dirty());
  ASSERT_TRUE(b->put("k", "v", std::nullopt));
  ASSERT_TRUE(b->add("n", count{1}, data_type::count, std::nullopt));
  // Batched in a transaction: the backend itself reads its own writes...
  EXPECT_TRUE(b->dirty());
  EXPECT_EQ(*b->size(), 2u);
  // ...and after flush() another connection sees them too.
  ASSERT_TRUE(b->flush());
  EXPECT_FALSE(b->dirty());
  EXPECT_EQ(raw_query(path_, "SELECT count(*) FROM store"), "2");
  EXPECT_EQ(raw_query(path_, "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteBackendFile, BatchedWritesWaitForFlushOrClose) {
  {
    auto b = open_sqlite({.path = path_});
    ASSERT_NE(b, nullptr);
    ASSERT_TRUE(b->put("old", "v", std::nullopt));
    ASSERT_TRUE(b->flush());
    for (int i = 0; i < 5000; ++i)
      ASSERT_TRUE(b->put(data{i}, data{"v"}, std::nullopt));
    // However many writes are batched, none commits on its own: the store
    // decides when (group commit), and answers only after it.
    EXPECT_EQ(raw_query(path_, "SELECT count(*) FROM store"), "1");
    EXPECT_TRUE(b->dirty());
  }
  // Destroying the backend commits (a clean close).
  EXPECT_EQ(raw_query(path_, "SELECT count(*) FROM store"), "5001");
}

TEST_F(SqliteBackendFile, RecordsFormatVersionAndCreatesDirectories) {
  auto path = dir_ + "/a/b/store.sqlite";
  ASSERT_NE(open_sqlite({.path = path}), nullptr);
  EXPECT_EQ(raw_query(path, "SELECT value FROM meta WHERE key='broker_format'"),
            "broker-wire-v1:1");
}

TEST_F(SqliteBackendFile, VersionMismatchIsAClearError) {
  {
    auto b = open_sqlite({.path = path_});
    ASSERT_NE(b, nullptr);
    ASSERT_TRUE(b->put("keep", "me", std::nullopt));
  }
  raw_exec(path_, "UPDATE meta SET value='broker-wire-v1:999' "
                  "WHERE key='broker_format'");
  for (auto mode : {"fail", "delete"}) {
    auto b = sqlite_backend::open({.path = path_, .failure_mode = mode});
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code(), ec::backend_failure);
    EXPECT_NE(b.error().message().find("broker-wire-v1:999"), std::string::npos)
      << b.error().message();
    EXPECT_NE(b.error().message().find("broker-wire-v1:1'"), std::string::npos)
      << b.error().message();
  }
  // Never deleted: restoring the version gives the data back.
  raw_exec(path_, "UPDATE meta SET value='broker-wire-v1:1' "
                  "WHERE key='broker_format'");
  auto b = open_sqlite({.path = path_});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(stored(b->get("keep")), data{"me"});
}

TEST_F(SqliteBackendFile, MissingVersionIsAClearError) {
  // Like a file written by real Broker: same tables, only broker_version.
  raw_exec(path_, "CREATE TABLE meta(key text primary key, value text);"
                  "CREATE TABLE store(key blob primary key, value blob,"
                  " expiry integer);"
                  "INSERT INTO meta VALUES('broker_version', '2.7.0');");
  auto b = sqlite_backend::open({.path = path_});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ec::backend_failure);
  EXPECT_NE(b.error().message().find("none"), std::string::npos);
  EXPECT_NE(b.error().message().find("broker-wire-v1:1"), std::string::npos);
  EXPECT_NE(b.error().message().find("2.7.0"), std::string::npos)
    << b.error().message();
  // An unrelated database is refused too, and left alone.
  auto other = dir_ + "/other.sqlite";
  raw_exec(other, "CREATE TABLE t(x);");
  EXPECT_EQ(code_of(sqlite_backend::open({.path = other})),
            ec::backend_failure);
  EXPECT_EQ(raw_query(other, "SELECT count(*) FROM sqlite_master"), "1");
}

TEST_F(SqliteBackendFile, EmptyFileBecomesANewDatabase) {
  write_file("");
  auto b = open_sqlite({.path = path_});
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->put(1, 2, std::nullopt));
  EXPECT_EQ(stored(b->get(1)), data{2});
}

TEST_F(SqliteBackendFile, CorruptFileIsAClearError) {
  std::string garbage(8192, 'x');
  write_file(garbage);
  auto b = sqlite_backend::open({.path = path_});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ec::backend_failure);
  EXPECT_NE(b.error().message().find(path_), std::string::npos);
  EXPECT_NE(b.error().message().find("not a database"), std::string::npos)
    << b.error().message();
  EXPECT_EQ(fs::file_size(path_), garbage.size()); // left alone
}

TEST_F(SqliteBackendFile, FailureModeDeleteStartsOver) {
  write_file(std::string(8192, 'x'));
  auto b = open_sqlite({.path = path_, .failure_mode = "delete"});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(*b->size(), 0u);
  ASSERT_TRUE(b->put("fresh", true, std::nullopt));
  b.reset();
  b = open_sqlite({.path = path_});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(stored(b->get("fresh")), data{true});
}

TEST_F(SqliteBackendFile, IntegrityCheckFindsDamagedPages) {
  {
    // synchronous=off: 2000 fsyncs would make this test slow.
    auto b = open_sqlite({.path = path_, .synchronous = "off"});
    ASSERT_NE(b, nullptr);
    for (int i = 0; i < 2000; ++i)
      ASSERT_TRUE(b->put(i, std::string(100, 'v'), std::nullopt));
  }
  auto size = fs::file_size(path_);
  ASSERT_GT(size, 16384u);
  {
    // Overwrite pages in the middle of the file, keeping the header.
    std::fstream f{path_, std::ios::binary | std::ios::in | std::ios::out};
    f.seekp(static_cast<std::streamoff>(size / 2));
    std::string junk(8192, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto b = sqlite_backend::open({.path = path_, .integrity_check = true});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ec::backend_failure);
  EXPECT_NE(b.error().message().find("integrity"), std::string::npos)
    << b.error().message();
  auto fresh = open_sqlite(
    {.path = path_, .failure_mode = "delete", .integrity_check = true});
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(*fresh->size(), 0u);
}

TEST_F(SqliteBackendFile, UnopenablePathIsCannotOpenFile) {
  // The path is a directory.
  auto b = sqlite_backend::open({.path = dir_, .failure_mode = "delete"});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ec::cannot_open_file) << b.error().to_string();
  EXPECT_TRUE(fs::is_directory(dir_));
}

TEST_F(SqliteBackendFile, InvalidOptionsAreRejected) {
  EXPECT_EQ(code_of(sqlite_backend::open({.path = ""})), ec::invalid_data);
  EXPECT_EQ(code_of(sqlite_backend::open(
              {.path = path_, .synchronous = "off; DROP TABLE store"})),
            ec::invalid_data);
  EXPECT_EQ(code_of(sqlite_backend::open({.path = path_,
                                          .journal_mode = "bogus"})),
            ec::invalid_data);
  EXPECT_EQ(code_of(sqlite_backend::open({.path = path_,
                                          .failure_mode = "ignore"})),
            ec::invalid_data);
  EXPECT_FALSE(fs::exists(path_));
  // Any case is fine.
  EXPECT_NE(open_sqlite({.path = path_, .synchronous = "FULL",
                         .journal_mode = "Truncate"}),
            nullptr);
}

TEST_F(SqliteBackendFile, OptionsFromBackendOptions) {
  auto opts = sqlite_options::from(
    {{"path", data{path_}},
     {"synchronous", data{enum_value{"Broker::SQLITE_SYNCHRONOUS_NORMAL"}}},
     {"journal_mode", data{"WAL"}},
     {"failure_mode", data{enum_value{"Broker::SQLITE_FAILURE_MODE_DELETE"}}},
     {"integrity_check", data{true}},
     {"unknown", data{1}}});
  ASSERT_TRUE(opts) << opts.error().to_string();
  EXPECT_EQ(opts->path, path_);
  EXPECT_EQ(opts->synchronous, "normal");
  EXPECT_EQ(opts->journal_mode, "wal");
  EXPECT_EQ(opts->failure_mode, "delete");
  EXPECT_TRUE(opts->integrity_check);
  auto defaults = sqlite_options::from({{"path", data{path_}}});
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->synchronous, "");
  EXPECT_EQ(defaults->journal_mode, "");
  EXPECT_EQ(defaults->failure_mode, "fail");
  EXPECT_FALSE(defaults->integrity_check);
  EXPECT_EQ(code_of(sqlite_options::from({})), ec::invalid_data);
  EXPECT_EQ(code_of(sqlite_options::from({{"path", data{1}}})),
            ec::invalid_data);
  EXPECT_EQ(code_of(sqlite_options::from(
              {{"path", data{path_}}, {"journal_mode", data{"fast"}}})),
            ec::invalid_data);
  EXPECT_EQ(code_of(sqlite_options::from(
              {{"path", data{path_}}, {"integrity_check", data{"yes"}}})),
            ec::invalid_data);
}
