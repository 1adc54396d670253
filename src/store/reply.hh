#pragma once

// One answer from a store's thread to a caller waiting with a deadline.
//
// The caller makes a `reply_slot`, hands its `reply_to` (a copyable
// callback) to the store's thread and waits. The store's thread calls the
// `reply_to` once; if every copy of it is destroyed unanswered (the store
// stopped and dropped the request), the waiter learns that at once instead
// of waiting for its deadline.
//
// A waiter spins briefly before sleeping (util/spin.hh): a query from a
// tight loop is answered within a microsecond or two, less than a futex
// sleep/wake pair would cost.

#include "util/spin.hh"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace broker::detail {

template <class T>
class reply_slot {
public:
  using clock = std::chrono::steady_clock;

  enum class outcome { answered, abandoned, timed_out };

  reply_slot() : st_(std::make_shared<state>()) {}

  /// The callback for the store's thread. Call it at most once.
  class reply_to {
  public:
    explicit reply_to(std::shared_ptr<typename reply_slot::state> st)
      : tx_(std::make_shared<sender>(std::move(st))) {}

    void operator()(T value) const { tx_->send(std::move(value)); }

  private:
    std::shared_ptr<typename reply_slot::sender> tx_;
  };

  reply_to make_reply_to() const { return reply_to{st_}; }

  /// Waits for the answer until `deadline`, spinning first as `spin`
  /// allows.
  outcome wait(clock::time_point deadline, adaptive_spin& spin) {
    if (spin.wait([this] { return st_->done.load(std::memory_order_acquire); }))
      return result();
    std::unique_lock guard{st_->mtx};
    st_->cv.wait_until(guard, deadline, [this] {
      return st_->done.load(std::memory_order_acquire);
    });
    if (!st_->done.load(std::memory_order_acquire))
      return outcome::timed_out;
    return result();
  }

  /// @pre `wait()` returned `answered`.
  T& value() { return *st_->value; }

private:
  struct state {
    std::mutex mtx;
    std::condition_variable cv;
    std::atomic<bool> done{false};
    std::optional<T> value;

    void finish(std::optional<T> x) {
      {
        std::lock_guard guard{mtx};
        value = std::move(x);
        done.store(true, std::memory_order_release);
      }
      cv.notify_one();
    }
  };

  // Shared by all copies of one reply_to: the last one to go away without
  // having answered reports the request as abandoned.
  struct sender {
    explicit sender(std::shared_ptr<state> s) : st(std::move(s)) {}
    ~sender() {
      if (!sent)
        st->finish(std::nullopt);
    }
    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;

    void send(T x) {
      if (sent)
        return;
      sent = true;
      st->finish(std::move(x));
    }

    std::shared_ptr<state> st;
    bool sent = false; // only touched on the store's thread
  };

  outcome result() const {
    return st_->value ? outcome::answered : outcome::abandoned;
  }

  std::shared_ptr<state> st_;
};

} // namespace broker::detail
