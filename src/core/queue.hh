#pragma once

// The bounded queue between the I/O thread (producer) and subscriber
// threads (consumers). A mutex and condition variable serve C++ waiters; a
// flare makes fd() readable while items wait (lit when the consumer is
// woken, extinguished on the last pop), for select/asyncio.
//
// The I/O thread may push quietly and wake() the consumer once at the end
// of its batch: a consumer woken by the first message of a burst would
// otherwise take the burst in small bites while the rest trickles in, and
// pay a wake-up (two context switches) for each bite.

#include "util/flare.hh"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

namespace broker::detail {

/// What a push did: the queue still has room, is now at (or over)
/// capacity, or was closed (the item is dropped).
enum class push_result { has_room, now_full, closed };

template <class T>
class bounded_queue {
public:
  using clock = std::chrono::steady_clock;

  explicit bounded_queue(size_t capacity) : capacity_(capacity ? capacity : 1) {}

  /// Adds an item (I/O thread). Never blocks, and never refuses an open
  /// queue: the caller decides what to do when it is now_full. With
  /// `wake` false the consumer learns of it at the next wake().
  push_result push(T item, bool wake = true) {
    push_result result = push_result::has_room;
    bool tell = false;
    {
      std::unique_lock guard{mtx_};
      if (closed_)
        return push_result::closed;
      queue_.push_back(std::move(item));
      tell = wake && mark_signaled();
      if (queue_.size() >= capacity_) {
        full_ = true;
        result = push_result::now_full;
      }
    }
    if (tell)
      tell_consumer();
    return result;
  }

  /// Adds an item, dropping the oldest when full (status queues).
  void push_drop_oldest(T item) {
    bool tell = false;
    {
      std::unique_lock guard{mtx_};
      if (closed_)
        return;
      if (queue_.size() >= capacity_)
        queue_.pop_front();
      queue_.push_back(std::move(item));
      tell = mark_signaled();
    }
    if (tell)
      tell_consumer();
  }

  /// Wakes the consumer if items wait that it was not told about.
  void wake() {
    bool tell = false;
    {
      std::unique_lock guard{mtx_};
      tell = !queue_.empty() && mark_signaled();
    }
    if (tell)
      tell_consumer();
  }

  /// Puts items back at the front, in their order (a consumer that took
  /// more than it could use). Ignores the capacity: they were in before.
  void push_front(std::vector<T> items) {
    if (items.empty())
      return;
    bool tell = false;
    {
      std::unique_lock guard{mtx_};
      queue_.insert(queue_.begin(), std::make_move_iterator(items.begin()),
                    std::make_move_iterator(items.end()));
      tell = mark_signaled();
    }
    if (tell)
      tell_consumer();
  }

  /// Takes up to `max` items without waiting.
  std::vector<T> pop(size_t max) {
    std::vector<T> result;
    std::function<void()> drained;
    {
      std::unique_lock guard{mtx_};
      auto n = std::min(max, queue_.size());
      result.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        result.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (queue_.empty())
        clear_signal();
      // Resume the producer once there is room for a good batch again.
      if (full_ && queue_.size() <= capacity_ / 2) {
        full_ = false;
        drained = on_drained_;
      }
    }
    if (drained)
      drained();
    return result;
  }

  /// Takes one item without waiting (no allocation: the hot path of get()).
  bool pop_one(T& out) {
    std::function<void()> drained;
    {
      std::unique_lock guard{mtx_};
      if (queue_.empty()) {
        clear_signal();
        return false;
      }
      out = std::move(queue_.front());
      queue_.pop_front();
      if (queue_.empty())
        clear_signal();
      if (full_ && queue_.size() <= capacity_ / 2) {
        full_ = false;
        drained = on_drained_;
      }
    }
    if (drained)
      drained();
    return true;
  }

  /// Waits until an item is available, the queue closed, or `deadline`.
  /// @returns whether an item is available.
  bool wait_until(clock::time_point deadline) {
    std::unique_lock guard{mtx_};
    cv_.wait_until(guard, deadline,
                   [this] { return !queue_.empty() || closed_; });
    return !queue_.empty();
  }

  size_t size() const {
    std::unique_lock guard{mtx_};
    return queue_.size();
  }

  bool full() const {
    std::unique_lock guard{mtx_};
    return full_;
  }

  size_t capacity() const noexcept { return capacity_; }

  /// The flare costs two syscalls per empty <-> non-empty round: it is
  /// only kept up to date once somebody asked for the descriptor.
  int fd() {
    std::unique_lock guard{mtx_};
    if (!fd_used_) {
      fd_used_.store(true, std::memory_order_release);
      if (signaled_)
        flare_.fire();
    }
    return flare_.fd();
  }

  /// Wakes all waiters; later pushes are ignored. Queued items stay poppable.
  void close() {
    std::unique_lock guard{mtx_};
    closed_ = true;
    cv_.notify_all();
  }

  bool closed() const {
    std::unique_lock guard{mtx_};
    return closed_;
  }

  /// Called (on a consumer thread, without the lock) when a full queue
  /// drained to half its capacity.
  void on_drained(std::function<void()> f) {
    std::unique_lock guard{mtx_};
    on_drained_ = std::move(f);
  }

private:
  /// Under the lock: whether the consumer must now be told that items
  /// wait (once until the queue runs empty).
  bool mark_signaled() {
    if (signaled_)
      return false;
    signaled_ = true;
    return true;
  }

  /// Without the lock: a consumer woken while we held it would only block
  /// on it again. So a pop may run empty before the flare fires, leaving
  /// it lit over an empty queue; clear_signal() puts that right.
  void tell_consumer() {
    if (fd_used_.load(std::memory_order_acquire))
      flare_.fire();
    cv_.notify_all();
  }

  /// Under the lock, the queue being empty: nothing to tell, and a flare
  /// lit late (see tell_consumer) goes out.
  void clear_signal() {
    signaled_ = false;
    if (fd_used_.load(std::memory_order_relaxed))
      flare_.extinguish();
  }

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<T> queue_;
  size_t capacity_;
  bool full_ = false;
  bool closed_ = false;
  std::atomic<bool> fd_used_{false};
  bool signaled_ = false; // the consumer was woken for what is queued
  std::function<void()> on_drained_;
  flare flare_;
};

} // namespace broker::detail
