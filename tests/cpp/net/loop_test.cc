// The event loop's batches: deferred work runs once the handlers that are
// ready have run (up to loop::max_batch), before the loop sleeps again.
#include "net/loop.hh"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

using namespace broker;
using namespace std::chrono_literals;

TEST(Loop, DeferredWorkRunsAfterTheReadyHandlers) {
  net::loop l;
  l.start();
  std::vector<std::string> order;
  std::promise<void> done;
  l.post([&] {
    order.push_back("a");
    l.defer([&] {
      order.push_back("deferred");
      done.set_value();
    });
    l.post([&] { order.push_back("b"); }); // ready in the same batch
  });
  ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  l.stop();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "deferred"}));
}

TEST(Loop, ABusyLoopStillRunsDeferredWorkEveryBatch) {
  net::loop l;
  l.start();
  // A chain of handlers that never lets the queue run empty: deferred
  // work must not wait for it to end.
  int steps = 0;
  int steps_at_deferred = -1;
  std::promise<void> done;
  std::function<void()> step = [&] {
    if (++steps == 10 * net::loop::max_batch) {
      done.set_value();
      return;
    }
    l.post(step);
  };
  l.post([&] {
    l.defer([&] { steps_at_deferred = steps; });
    step();
  });
  ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  l.stop();
  EXPECT_GE(steps_at_deferred, 1);
  EXPECT_LE(steps_at_deferred, net::loop::max_batch);
}
