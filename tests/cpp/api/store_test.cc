// Store handles through the public C++ API: requests go to the store's own
// thread in order, SQLite writes are committed before a later request is
// answered, and detached or shut-down stores refuse calls at once.
#include "broker/endpoint.hh"
#include "broker/store.hh"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>

using namespace broker;

namespace {

/// A temporary directory, removed with its contents.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    auto tmpl = (std::filesystem::temp_directory_path() / "store-test-XXXXXX")
                  .string();
    path = mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

/// Counts the rows of the store table through a connection of our own, so
/// it only sees what the master has committed.
int64_t committed_rows(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM store", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW)
    n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

std::unique_ptr<store> attach(endpoint& ep, const std::string& name,
                              backend_type type = backend_type::memory,
                              endpoint::backend_options opts = {}) {
  auto result = ep.attach_master(name, type, opts);
  EXPECT_TRUE(result) << (result ? "" : result.error().to_string());
  return result ? std::move(*result) : nullptr;
}

} // namespace

TEST(store, a_query_sees_every_mutation_queued_before_it) {
  endpoint ep;
  auto m = attach(ep, "fifo");
  for (int i = 0; i < 10000; ++i)
    ASSERT_TRUE(m->put(data{integer{i}}, data{integer{i * 2}}));
  ASSERT_TRUE(m->increment(data{"n"}, data{count{5}}));
  auto last = m->get(data{integer{9999}});
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, data{integer{19998}});
  auto n = m->get(data{"n"});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, data{count{5}});
  auto keys = m->keys();
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->get<set>().size(), 10001u);
}

TEST(store, sqlite_writes_are_committed_when_a_later_request_is_answered) {
  temp_dir dir;
  auto path = (dir.path / "gc.sqlite").string();
  endpoint ep;
  auto m = attach(ep, "gc", backend_type::sqlite,
                  {{"path", data{path}},
                   {"journal_mode", data{"wal"}},
                   {"synchronous", data{"normal"}}});
  ASSERT_NE(m, nullptr);
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(m->put(data{integer{i}}, data{"x"}));
  // The answer to exists() comes after the commit that covers the puts.
  auto present = m->exists(data{integer{499}});
  ASSERT_TRUE(present);
  EXPECT_TRUE(*present);
  EXPECT_EQ(committed_rows(path), 500);
  ASSERT_TRUE(m->erase(data{integer{0}}));
  EXPECT_TRUE(m->await_idle(store::clock::now() + std::chrono::seconds{10}));
  EXPECT_EQ(committed_rows(path), 499);
}

TEST(store, a_reset_handle_refuses_every_call_at_once) {
  endpoint ep;
  auto m = attach(ep, "detach");
  auto other = m->share();
  ASSERT_TRUE(m->put(data{"k"}, data{1}));
  m->reset();
  EXPECT_FALSE(m->attached());
  auto got = m->get(data{"k"});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ec::shutting_down);
  auto put = m->put(data{"k"}, data{2});
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code(), ec::shutting_down);
  EXPECT_FALSE(m->await_idle(store::clock::now() + std::chrono::seconds{10}));
  // The other handle keeps the master running.
  auto still = other->get(data{"k"});
  ASSERT_TRUE(still);
  EXPECT_EQ(*still, data{1});
}

TEST(store, a_second_attach_shares_the_master_and_the_name_frees_on_reset) {
  endpoint ep;
  auto a = attach(ep, "twice");
  auto b = attach(ep, "twice");
  ASSERT_TRUE(a->put(data{"k"}, data{"v"}));
  // Both handles post to the same master's mailbox.
  auto got = b->get(data{"k"});
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, data{"v"});
  a->reset();
  b->reset();
  // The old master is stopped once its last handle is gone: a new one
  // starts empty.
  auto c = attach(ep, "twice");
  auto missing = c->get(data{"k"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ec::no_such_key);
}

TEST(store, shutdown_stops_masters_and_clones_and_later_calls_fail) {
  temp_dir dir;
  auto path = (dir.path / "down.sqlite").string();
  endpoint ep;
  auto m = attach(ep, "down", backend_type::sqlite, {{"path", data{path}}});
  ASSERT_NE(m, nullptr);
  auto c = ep.attach_clone("other");
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(m->put(data{integer{i}}, data{"x"}));
  ep.shutdown();
  // Queued writes were applied and committed by the shutdown.
  EXPECT_EQ(committed_rows(path), 100);
  for (auto* s : {m.get(), c.get()}) {
    auto got = s->get(data{integer{1}});
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), ec::shutting_down);
    auto put = s->put(data{"k"}, data{1});
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code(), ec::shutting_down);
  }
}
