#pragma once

// Bounded busy-waiting before a blocking wait. Handing a request to another
// thread and back costs two futex wake-ups (tens of microseconds) when both
// sides sleep; while requests arrive back to back, a short spin keeps both
// threads awake and the round trip under a microsecond. The spin is
// bounded, so an idle thread still goes to sleep at once in CPU terms.

#include <chrono>
#include <thread>

namespace broker::detail {

/// How long a thread spins before it sleeps.
inline constexpr auto spin_budget = std::chrono::microseconds{50};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Calls `pred` until it returns true or `spin_budget` passed.
/// @returns the last result of `pred`.
template <class Predicate>
bool spin_until(Predicate pred) {
  // A few pure spins first: the answer is often just cache-line latency
  // away. Then yield, so that on a busy machine the thread we wait for
  // gets our core if it shares it.
  for (int i = 0; i < 64; ++i) {
    if (pred())
      return true;
    cpu_relax();
  }
  auto until = std::chrono::steady_clock::now() + spin_budget;
  do {
    if (pred())
      return true;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < until);
  return pred();
}

} // namespace broker::detail
