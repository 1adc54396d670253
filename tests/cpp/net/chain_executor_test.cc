// The chain executor: posted completions run back to back from one Asio
// handler, in order, never inside the call that posts them, yielding to the
// rest of the io_context every chain_limit completions, and surviving a
// completion that throws.
#include "net/chain_executor.hh"

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

namespace asio = broker::net::asio;
using broker::net::chain_executor;
using broker::net::chain_queue;

namespace {

/// Posts `f` through `ex` the way Beast completes an operation.
template <class F>
void complete_via(const chain_executor& ex, F f) {
  asio::post(asio::bind_executor(ex, std::move(f)));
}

} // namespace

TEST(ChainExecutor, CompletionsRunInOrderFromOneAsioHandlerNeverInline) {
  asio::io_context ctx{1};
  std::vector<int> order;
  bool inside = false;
  asio::post(ctx, [&] {
    chain_executor ex{ctx};
    inside = true;
    for (int i = 0; i < 10; ++i)
      complete_via(ex, [&, i] {
        EXPECT_FALSE(inside);
        order.push_back(i);
      });
    inside = false;
  });
  ASSERT_EQ(ctx.run_one(), 1u); // the handler that posts
  EXPECT_TRUE(order.empty());
  // All ten in one Asio handler: no trip through the reactor each.
  ASSERT_EQ(ctx.poll_one(), 1u);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(ctx.poll(), 0u);
}

TEST(ChainExecutor, ALongChainLetsOtherHandlersRun) {
  asio::io_context ctx{1};
  constexpr int length = 10 * chain_queue::chain_limit;
  int steps = 0;
  int steps_when_other_ran = -1;
  chain_executor ex{ctx};
  std::function<void()> step = [&] {
    if (++steps < length)
      complete_via(ex, step);
  };
  asio::post(ctx, [&] {
    complete_via(ex, step);
    asio::post(ctx, [&] { steps_when_other_ran = steps; });
  });
  ctx.run();
  EXPECT_EQ(steps, length);
  EXPECT_GE(steps_when_other_ran, 0);
  EXPECT_LE(steps_when_other_ran, chain_queue::chain_limit);
}

TEST(ChainExecutor, AThrowingCompletionDoesNotStrandTheRest) {
  asio::io_context ctx{1};
  std::vector<int> order;
  asio::post(ctx, [&] {
    chain_executor ex{ctx};
    complete_via(ex, [&] { order.push_back(1); });
    complete_via(ex, [] { throw std::runtime_error("boom"); });
    complete_via(ex, [&] { order.push_back(3); });
  });
  EXPECT_THROW(ctx.run(), std::runtime_error);
  ctx.restart();
  ctx.run();
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
}

TEST(ChainExecutor, FromAnotherThreadItPostsToTheContext) {
  asio::io_context ctx{1};
  auto guard = asio::make_work_guard(ctx);
  std::thread::id ran_on;
  std::thread io{[&] { ctx.run(); }};
  auto io_id = io.get_id();
  chain_executor ex{ctx};
  std::promise<void> done;
  complete_via(ex, [&] {
    ran_on = std::this_thread::get_id();
    done.set_value();
  });
  auto status = done.get_future().wait_for(std::chrono::seconds(10));
  guard.reset();
  ctx.stop();
  io.join();
  ASSERT_EQ(status, std::future_status::ready);
  EXPECT_EQ(ran_on, io_id);
}
