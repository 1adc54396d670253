#pragma once

// Status and error events and the queues of their subscribers. Owned by
// the I/O thread; the other parts of the core report through it.

#include "broker/endpoint_info.hh"
#include "broker/status.hh"
#include "core/queue.hh"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace broker::detail {

using status_queue = bounded_queue<status_event>;

class statuses {
public:
  /// `capacity` bounds each subscriber's queue; beyond it the oldest
  /// event goes, so a subscriber that never reads costs bounded memory.
  explicit statuses(size_t capacity) : capacity_(capacity) {}

  void emit(status_event ev);
  void emit_status(sc code, const endpoint_info& ctx, std::string msg);
  void emit_error(ec code, const endpoint_info& ctx, std::string msg);

  std::shared_ptr<status_queue> make_queue() const {
    return std::make_shared<status_queue>(capacity_);
  }

  /// `receive_statuses`: statuses as well as errors.
  void add(std::shared_ptr<status_queue> q, bool receive_statuses);
  void remove(const std::shared_ptr<status_queue>& q);

  /// Closes every queue (shutdown).
  void close_all();

private:
  size_t capacity_;
  std::vector<std::pair<std::shared_ptr<status_queue>, bool>> subs_;
};

} // namespace broker::detail
