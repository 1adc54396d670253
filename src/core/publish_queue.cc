#include "core/publish_queue.hh"

#include <algorithm>
#include <iterator>

namespace broker::detail {

publish_queue::publish_queue(size_t capacity, std::function<void()> wake)
  : capacity_(capacity ? capacity : 1), wake_(std::move(wake)) {
  room_.fire();
}

bool publish_queue::push(std::vector<outgoing_message> msgs,
                         clock::time_point deadline) {
  // wake_ posts to the I/O thread, which then takes our lock: calling it
  // with the lock held would have the woken thread block on us.
  bool wake = false;
  bool ok = true;
  {
    std::unique_lock guard{mtx_};
    for (auto& msg : msgs) {
      if (queue_.size() >= capacity_) {
        if (wake) { // the drain must be on its way before we wait for it
          wake = false;
          guard.unlock();
          wake_();
          guard.lock();
        }
        if (!cv_.wait_until(guard, deadline, [this] {
              return queue_.size() < capacity_ || closed_;
            })) {
          ok = false;
          break;
        }
      }
      if (closed_) {
        ok = false;
        break;
      }
      queue_.push_back(std::move(msg));
      if (queue_.size() == capacity_)
        room_.extinguish();
      if (!scheduled_) {
        scheduled_ = true;
        wake = true;
      }
    }
  }
  if (wake)
    wake_();
  return ok;
}

std::deque<outgoing_message> publish_queue::take(size_t max) {
  std::deque<outgoing_message> batch;
  {
    std::unique_lock guard{mtx_};
    if (queue_.empty()) {
      scheduled_ = false;
      return batch;
    }
    if (queue_.size() >= capacity_)
      room_.fire(); // there will be room again
    auto n = static_cast<std::ptrdiff_t>(std::min(queue_.size(), max));
    batch.assign(std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.begin() + n));
    queue_.erase(queue_.begin(), queue_.begin() + n);
  }
  cv_.notify_all();
  return batch;
}

void publish_queue::put_back(std::deque<outgoing_message> msgs) {
  std::unique_lock guard{mtx_};
  queue_.insert(queue_.begin(), std::make_move_iterator(msgs.begin()),
                std::make_move_iterator(msgs.end()));
  if (queue_.size() >= capacity_)
    room_.extinguish();
}

size_t publish_queue::size() {
  std::unique_lock guard{mtx_};
  return queue_.size();
}

void publish_queue::close() {
  {
    std::unique_lock guard{mtx_};
    closed_ = true;
    queue_.clear();
  }
  cv_.notify_all();
}

} // namespace broker::detail
