#pragma once

// Bounded, adaptive busy-waiting before a blocking wait.
//
// Handing a request to another thread and back costs two futex wake-ups
// when both sides sleep. While requests arrive back to back and both
// threads have a core, a short spin keeps them awake and the round trip
// under a microsecond. But when the machine is oversubscribed the thread we
// wait for may not be running at all, and spinning only steals its core:
// then blocking at once is best. So the spin adapts: a wait that ends
// quickly within its spin lengthens the next one, one that ends slowly
// halves it, one that has to block ends spinning until a wait succeeds
// again (benchmarks/bench_store.py; docs/decisions/0003-stores.md).
//
// Spinning yields between looks, so a thread we wait for on our own core
// can run. On an oversubscribed machine a yield may also hand the core to
// another process for a whole time slice, which is why slow or failed
// spins shrink the next ones down to a single yield.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace broker::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class adaptive_spin {
public:
  /// The longest spin, and the first.
  static constexpr int64_t max_ns = 50'000;
  static constexpr int64_t initial_ns = 20'000;

  explicit adaptive_spin(int64_t initial = initial_ns) : budget_ns_(initial) {}

  /// Calls `pred` until it returns true or the current budget passed.
  /// @returns the last result of `pred`; false means: block now.
  template <class Predicate>
  bool wait(Predicate pred) {
    auto budget = budget_ns_.load(std::memory_order_relaxed);
    auto until = std::chrono::steady_clock::now()
                 + std::chrono::nanoseconds{budget};
    // A few pure spins: the answer is often a cache miss away. Then yield
    // between looks: if the thread we wait for shares our core, it runs
    // now. At least once, however small the budget.
    for (int i = 0; i < 32; ++i) {
      if (pred()) {
        grow(budget);
        return true;
      }
      cpu_relax();
    }
    int yields = 0;
    do {
      std::this_thread::yield();
      ++yields;
      if (pred()) {
        // Found after a yield or two: the other thread runs beside us.
        // After many: it only ran when we gave up our core, which on a
        // busy machine may mean a whole time slice per look.
        if (yields <= 2)
          grow(budget);
        else
          budget_ns_.store(budget / 2, std::memory_order_relaxed);
        return true;
      }
    } while (std::chrono::steady_clock::now() < until);
    // Failed: the other thread is idle, or not running at all. Either way,
    // block at once next time.
    budget_ns_.store(0, std::memory_order_relaxed);
    return false;
  }

  /// The current budget (tests).
  int64_t budget_ns() const noexcept {
    return budget_ns_.load(std::memory_order_relaxed);
  }

private:
  void grow(int64_t budget) {
    budget_ns_.store(std::min(max_ns, budget + budget / 4 + 1'000),
                     std::memory_order_relaxed);
  }

  std::atomic<int64_t> budget_ns_;
};

} // namespace broker::detail
