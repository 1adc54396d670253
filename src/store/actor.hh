#pragma once

// A store's own thread: a mailbox of closures plus timers. Master and clone
// state machines run here, so backend work (SQLite) never blocks the
// endpoint's I/O thread, and one store's state has a single owner.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace broker::detail {

class actor {
public:
  using clock = std::chrono::steady_clock;
  using timer_id = uint64_t;

  actor() = default;
  ~actor() { stop(); }

  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  /// Stops after the closure running now; queued work is dropped. Must not
  /// be called from the actor's own thread.
  void stop() {
    {
      std::unique_lock guard{mtx_};
      if (stopping_)
        return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }

  /// Runs `f` on the actor's thread. Thread-safe.
  void post(std::function<void()> f) {
    {
      std::unique_lock guard{mtx_};
      if (stopping_)
        return;
      mailbox_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

  /// Runs `f` on the actor's thread at `when`. Thread-safe.
  timer_id schedule(clock::time_point when, std::function<void()> f) {
    std::unique_lock guard{mtx_};
    auto id = next_timer_++;
    timers_.emplace(std::pair{when, id}, std::move(f));
    cv_.notify_one();
    return id;
  }

  bool in_actor_thread() const noexcept {
    return std::this_thread::get_id() == thread_.get_id();
  }

private:
  void run() {
    std::unique_lock guard{mtx_};
    while (!stopping_) {
      auto now = clock::now();
      if (!timers_.empty() && timers_.begin()->first.first <= now) {
        auto f = std::move(timers_.begin()->second);
        timers_.erase(timers_.begin());
        guard.unlock();
        f();
        guard.lock();
        continue;
      }
      if (!mailbox_.empty()) {
        auto f = std::move(mailbox_.front());
        mailbox_.pop_front();
        guard.unlock();
        f();
        guard.lock();
        continue;
      }
      if (timers_.empty())
        cv_.wait(guard);
      else
        cv_.wait_until(guard, timers_.begin()->first.first);
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> mailbox_;
  std::map<std::pair<clock::time_point, timer_id>, std::function<void()>>
    timers_;
  timer_id next_timer_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace broker::detail
