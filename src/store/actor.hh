#pragma once

// A store's own thread: a FIFO mailbox of closures plus timers. Master and
// clone state machines run only here, so one store's state has a single
// owner and needs no lock, and backend work (SQLite) never blocks the
// endpoint's I/O thread or an API caller.
//
// The thread calls `on_flush` whenever the mailbox ran empty, and at least
// every `flush_interval` while it never does: a master commits its batched
// writes there (group commit, see master.hh).

#include "util/spin.hh"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
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

  /// The longest a busy mailbox goes without an `on_flush`.
  static constexpr auto flush_interval = std::chrono::milliseconds{5};

  /// `capacity`: how many closures `post_bounded` lets queue up.
  explicit actor(size_t capacity = 65536) : capacity_(capacity) {}

  ~actor() { stop(clock::now()); }

  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;

  void start(std::function<void()> on_flush) {
    on_flush_ = std::move(on_flush);
    thread_ = std::thread([this] { run(); });
  }

  /// Refuses new work, runs what is queued until `drain_deadline` (the rest
  /// is dropped), calls `on_flush` a last time and joins the thread.
  /// Timers are dropped. Idempotent; must not be called from the actor's
  /// own thread.
  void stop(clock::time_point drain_deadline) {
    {
      std::unique_lock guard{mtx_};
      if (!stopping_) {
        stopping_ = true;
        drain_deadline_ = drain_deadline;
        stop_requested_.store(true, std::memory_order_release);
      }
    }
    work_cv_.notify_all();
    room_cv_.notify_all();
    std::unique_lock guard{join_mtx_};
    if (thread_.joinable())
      thread_.join();
  }

  /// Runs `f` on the actor's thread, after everything posted before.
  /// Never blocks (the I/O thread posts here). Thread-safe.
  /// @returns false if the actor is stopping (`f` is dropped).
  bool post(std::function<void()> f) {
    std::unique_lock guard{mtx_};
    if (stopping_)
      return false;
    push(guard, std::move(f));
    return true;
  }

  enum class admission { queued, stopped, timed_out };

  /// Like `post`, but first waits while `capacity` closures are queued, so
  /// that a stalled store does not queue without bound.
  admission post_bounded(std::function<void()> f,
                         clock::time_point deadline) {
    std::unique_lock guard{mtx_};
    if (!stopping_ && mailbox_.size() >= capacity_) {
      ++room_waiters_;
      room_cv_.wait_until(guard, deadline, [this] {
        return stopping_ || mailbox_.size() < capacity_;
      });
      --room_waiters_;
    }
    if (stopping_)
      return admission::stopped;
    if (mailbox_.size() >= capacity_)
      return admission::timed_out;
    push(guard, std::move(f));
    return admission::queued;
  }

  /// Runs `f` on the actor's thread at `when`. Thread-safe.
  timer_id schedule(clock::time_point when, std::function<void()> f) {
    std::unique_lock guard{mtx_};
    auto id = next_timer_++;
    timers_.emplace(std::pair{when, id}, std::move(f));
    if (sleeping_)
      work_cv_.notify_one();
    return id;
  }

  /// Closures waiting in the mailbox.
  size_t queued() const {
    std::unique_lock guard{mtx_};
    return mailbox_.size();
  }

private:
  void push(std::unique_lock<std::mutex>&, std::function<void()> f) {
    mailbox_.push_back(std::move(f));
    pending_.store(true, std::memory_order_release);
    if (sleeping_)
      work_cv_.notify_one();
  }

  bool timer_due(clock::time_point now) const {
    return !timers_.empty() && timers_.begin()->first.first <= now;
  }

  void run() {
    std::deque<std::function<void()>> batch;
    auto last_flush = clock::now();
    std::unique_lock guard{mtx_};
    for (;;) {
      auto now = clock::now();
      if (stopping_) {
        if (mailbox_.empty() || now >= drain_deadline_)
          break;
      } else if (timer_due(now)) {
        auto f = std::move(timers_.begin()->second);
        timers_.erase(timers_.begin());
        guard.unlock();
        f();
        guard.lock();
        continue;
      }
      if (!mailbox_.empty()) {
        // Take the whole mailbox at once: one lock per batch rather than
        // per closure, so posting threads rarely wait for us.
        batch.swap(mailbox_);
        pending_.store(false, std::memory_order_relaxed);
        if (room_waiters_ > 0)
          room_cv_.notify_all();
        guard.unlock();
        while (!batch.empty()) {
          if (stop_requested_.load(std::memory_order_acquire)
              && clock::now() >= drain_deadline_)
            break; // the rest is dropped below
          auto f = std::move(batch.front());
          batch.pop_front();
          f();
          if (clock::now() - last_flush >= flush_interval) {
            on_flush_();
            last_flush = clock::now();
          }
        }
        guard.lock();
        continue;
      }
      // Nothing queued: the moment to commit and answer.
      guard.unlock();
      on_flush_();
      last_flush = clock::now();
      spin_.wait([this] { return pending_.load(std::memory_order_acquire); });
      guard.lock();
      if (!mailbox_.empty() || stopping_ || timer_due(clock::now()))
        continue;
      sleeping_ = true;
      if (timers_.empty())
        work_cv_.wait(guard);
      else
        work_cv_.wait_until(guard, timers_.begin()->first.first);
      sleeping_ = false;
    }
    // Whatever the deadline left queued is dropped here, outside the lock:
    // destroying a request answers its waiter (reply.hh).
    auto rest = std::move(mailbox_);
    mailbox_.clear();
    auto timers = std::move(timers_);
    timers_.clear();
    guard.unlock();
    batch.clear();
    rest.clear();
    timers.clear();
    on_flush_();
  }

  const size_t capacity_;
  adaptive_spin spin_; // the actor's thread only
  std::function<void()> on_flush_;
  mutable std::mutex mtx_;
  std::condition_variable work_cv_;
  std::condition_variable room_cv_;
  std::deque<std::function<void()>> mailbox_;
  std::atomic<bool> pending_{false};
  std::map<std::pair<clock::time_point, timer_id>, std::function<void()>>
    timers_;
  timer_id next_timer_ = 1;
  size_t room_waiters_ = 0;
  bool sleeping_ = false;
  bool stopping_ = false;
  // Written before stop_requested_ is set, read after seeing it set.
  clock::time_point drain_deadline_;
  std::atomic<bool> stop_requested_{false};
  std::mutex join_mtx_;
  std::thread thread_;
};

} // namespace broker::detail
