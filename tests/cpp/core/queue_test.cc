// The subscriber queue: bounds, fd readability, waiting, drain callback.
#include "core/queue.hh"

#include <gtest/gtest.h>

#include <poll.h>

#include <thread>

using namespace broker::detail;
using namespace std::chrono_literals;

namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

} // namespace

TEST(Queue, FdIsReadableExactlyWhileItemsWait) {
  bounded_queue<int> q{10};
  EXPECT_FALSE(readable(q.fd()));
  q.push(1);
  EXPECT_TRUE(readable(q.fd()));
  q.push(2);
  EXPECT_EQ(q.pop(1), std::vector<int>{1});
  EXPECT_TRUE(readable(q.fd()));
  EXPECT_EQ(q.pop(10), std::vector<int>{2});
  EXPECT_FALSE(readable(q.fd()));
}

TEST(Queue, PushReportsFullAndDrainCallbackFiresAtHalf) {
  bounded_queue<int> q{4};
  int drained = 0;
  q.on_drained([&] { ++drained; });
  EXPECT_EQ(q.push(1), push_result::has_room);
  EXPECT_EQ(q.push(2), push_result::has_room);
  EXPECT_EQ(q.push(3), push_result::has_room);
  EXPECT_EQ(q.push(4), push_result::now_full);
  EXPECT_TRUE(q.full());
  q.pop(1);
  EXPECT_EQ(drained, 0);
  q.pop(1);
  EXPECT_EQ(drained, 1);
  EXPECT_FALSE(q.full());
}

TEST(Queue, DropOldestKeepsTheNewest) {
  bounded_queue<int> q{2};
  q.push_drop_oldest(1);
  q.push_drop_oldest(2);
  q.push_drop_oldest(3);
  EXPECT_EQ(q.pop(10), (std::vector<int>{2, 3}));
}

TEST(Queue, WaitReturnsOnPushTimeoutOrClose) {
  bounded_queue<int> q{4};
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(q.wait_until(t0 + 20ms));
  std::thread producer{[&] {
    std::this_thread::sleep_for(10ms);
    q.push(7);
  }};
  EXPECT_TRUE(q.wait_until(std::chrono::steady_clock::now() + 10s));
  producer.join();
  q.pop(1);
  std::thread closer{[&] { q.close(); }};
  EXPECT_FALSE(q.wait_until(std::chrono::steady_clock::now() + 10s));
  closer.join();
  EXPECT_EQ(q.push(1), push_result::closed); // ignored after close
  EXPECT_EQ(q.size(), 0u);
}

TEST(Queue, QuietPushesWakeTheConsumerOnlyAtWake) {
  bounded_queue<int> q{10};
  int fd = q.fd();
  EXPECT_EQ(q.push(1, false), push_result::has_room);
  EXPECT_EQ(q.push(2, false), push_result::has_room);
  EXPECT_FALSE(readable(fd)); // not told yet
  q.wake();
  EXPECT_TRUE(readable(fd));
  q.wake(); // idempotent
  EXPECT_EQ(q.pop(10), (std::vector<int>{1, 2}));
  EXPECT_FALSE(readable(fd));
  // A consumer that takes quietly pushed items before the wake leaves
  // nothing to wake for.
  q.push(3, false);
  EXPECT_EQ(q.pop(10), std::vector<int>{3});
  q.wake();
  EXPECT_FALSE(readable(fd));
}
