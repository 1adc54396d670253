// The store's thread (store/actor.hh) and the reply slots its requests are
// answered through (store/reply.hh). Closures block on latches the test
// controls, so every case is ordered by the test, not by timing.
#include "store/actor.hh"
#include "store/reply.hh"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace broker::detail;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

/// What ran on the actor's thread, in order ("flush" for on_flush).
class journal {
public:
  void add(std::string x) {
    std::lock_guard guard{mtx_};
    xs_.push_back(std::move(x));
  }

  std::vector<std::string> get() const {
    std::lock_guard guard{mtx_};
    return xs_;
  }

private:
  mutable std::mutex mtx_;
  std::vector<std::string> xs_;
};

/// Blocks the actor's thread until released.
struct blocker {
  std::latch started{1};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();

  std::function<void()> closure() {
    return [this] {
      started.count_down();
      released.wait();
    };
  }
};

} // namespace

TEST(actor, runs_closures_in_posting_order_and_flushes_when_idle) {
  journal j;
  actor a;
  blocker b;
  a.start([&] { j.add("flush"); });
  ASSERT_TRUE(a.post(b.closure()));
  b.started.wait();
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(a.post([&j, i] { j.add(std::to_string(i)); }));
  b.release.set_value();
  // The last on_flush runs after the mailbox ran empty: wait for one that
  // follows item 99 (bounded: stop() below would end it anyway).
  auto deadline = clock_type::now() + 10s;
  for (;;) {
    auto xs = j.get();
    if (!xs.empty() && xs.back() == "flush" && xs.size() >= 2
        && std::find(xs.begin(), xs.end(), "99") != xs.end())
      break;
    ASSERT_LT(clock_type::now(), deadline);
    std::this_thread::sleep_for(1ms);
  }
  a.stop(clock_type::now() + 10s);
  std::vector<std::string> items;
  for (auto& x : j.get())
    if (x != "flush")
      items.push_back(x);
  ASSERT_EQ(items.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(items[i], std::to_string(i));
}

TEST(actor, a_busy_mailbox_still_flushes_every_interval) {
  journal j;
  actor a;
  blocker b;
  a.start([&] { j.add("flush"); });
  a.post(b.closure());
  b.started.wait();
  // Three items that each outlast the flush interval, queued together: the
  // mailbox never runs empty between them, yet flushes happen in between.
  for (int i = 0; i < 3; ++i)
    a.post([&j, i] {
      std::this_thread::sleep_for(actor::flush_interval + 1ms);
      j.add(std::to_string(i));
    });
  b.release.set_value();
  a.stop(clock_type::now() + 10s);
  auto xs = j.get();
  auto first = std::find(xs.begin(), xs.end(), "0");
  auto last = std::find(xs.begin(), xs.end(), "2");
  ASSERT_NE(first, xs.end());
  ASSERT_NE(last, xs.end());
  EXPECT_GE(std::count(first, last, "flush"), 2);
}

TEST(actor, bounded_post_waits_for_room_until_its_deadline) {
  actor a{2};
  blocker b;
  a.start([] {});
  a.post(b.closure());
  b.started.wait();
  // The blocker left the mailbox when it started: two more fit.
  auto never = clock_type::now() + 10s;
  EXPECT_EQ(a.post_bounded([] {}, never), actor::admission::queued);
  EXPECT_EQ(a.post_bounded([] {}, never), actor::admission::queued);
  EXPECT_EQ(a.post_bounded([] {}, clock_type::now() + 20ms),
            actor::admission::timed_out);
  // An unbounded post (the I/O thread's) is never refused for room.
  EXPECT_TRUE(a.post([] {}));
  EXPECT_EQ(a.queued(), 3u);
  // A waiting poster gets in once the actor drains the mailbox.
  auto waiter = std::async(std::launch::async, [&] {
    return a.post_bounded([] {}, clock_type::now() + 10s);
  });
  b.release.set_value();
  EXPECT_EQ(waiter.get(), actor::admission::queued);
  a.stop(clock_type::now() + 10s);
  EXPECT_EQ(a.post_bounded([] {}, never), actor::admission::stopped);
  EXPECT_FALSE(a.post([] {}));
}

TEST(actor, stop_runs_what_was_queued_before_it) {
  journal j;
  actor a;
  blocker b;
  a.start([] {});
  a.post(b.closure());
  b.started.wait();
  for (int i = 0; i < 10; ++i)
    a.post([&j, i] { j.add(std::to_string(i)); });
  auto stopper = std::async(std::launch::async,
                            [&] { a.stop(clock_type::now() + 10s); });
  // Once stopping, new work is refused (wait until stop() has begun).
  auto deadline = clock_type::now() + 10s;
  while (a.post([&j] { j.add("late"); })) {
    ASSERT_LT(clock_type::now(), deadline);
    std::this_thread::sleep_for(1ms);
  }
  b.release.set_value();
  stopper.get();
  auto xs = j.get();
  xs.erase(std::remove(xs.begin(), xs.end(), "late"), xs.end());
  EXPECT_EQ(xs.size(), 10u);
}

TEST(actor, stop_past_its_drain_deadline_drops_requests_and_their_waiters_learn_it) {
  actor a;
  blocker b;
  a.start([] {});
  a.post(b.closure());
  b.started.wait();
  reply_slot<int> slot;
  a.post([reply = slot.make_reply_to()] { reply(42); });
  // A drain deadline in the past: the queued request is dropped.
  auto stopper = std::async(std::launch::async,
                            [&] { a.stop(clock_type::now() - 1s); });
  auto deadline = clock_type::now() + 10s;
  while (a.post([] {})) {
    ASSERT_LT(clock_type::now(), deadline);
    std::this_thread::sleep_for(1ms);
  }
  b.release.set_value();
  stopper.get();
  adaptive_spin spin;
  EXPECT_EQ(slot.wait(clock_type::now() + 10s, spin),
            reply_slot<int>::outcome::abandoned);
}

TEST(reply_slot, answered_timed_out_and_abandoned) {
  adaptive_spin spin;
  {
    reply_slot<std::string> slot;
    auto reply = slot.make_reply_to();
    std::thread t{[reply] { reply("hi"); }};
    EXPECT_EQ(slot.wait(clock_type::now() + 10s, spin),
              reply_slot<std::string>::outcome::answered);
    EXPECT_EQ(slot.value(), "hi");
    t.join();
  }
  {
    reply_slot<int> slot;
    auto reply = slot.make_reply_to();
    EXPECT_EQ(slot.wait(clock_type::now() + 10ms, spin),
              reply_slot<int>::outcome::timed_out);
    reply(1); // late: nobody listens, nothing breaks
  }
  {
    reply_slot<int> slot;
    {
      auto reply = slot.make_reply_to();
      auto copy = reply; // only the last copy going away counts
    }
    EXPECT_EQ(slot.wait(clock_type::now() + 10s, spin),
              reply_slot<int>::outcome::abandoned);
  }
}
