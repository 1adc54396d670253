#include "core/statuses.hh"

#include <algorithm>

namespace broker::detail {

void statuses::emit(status_event ev) {
  bool is_status = std::holds_alternative<status>(ev);
  for (auto& [q, wants_statuses] : subs_)
    if (!is_status || wants_statuses)
      q->push_drop_oldest(ev);
}

void statuses::emit_status(sc code, const endpoint_info& ctx, std::string msg) {
  emit(status{code, ctx, std::move(msg)});
}

void statuses::emit_error(ec code, const endpoint_info& ctx, std::string msg) {
  emit(error_event{code, ctx, std::move(msg)});
}

void statuses::add(std::shared_ptr<status_queue> q, bool receive_statuses) {
  subs_.emplace_back(std::move(q), receive_statuses);
}

void statuses::remove(const std::shared_ptr<status_queue>& q) {
  std::erase_if(subs_, [&](auto& x) { return x.first == q; });
}

void statuses::close_all() {
  for (auto& [q, wants_statuses] : subs_)
    q->close();
}

} // namespace broker::detail
