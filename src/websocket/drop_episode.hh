#pragma once

// Reporting what a dropping overflow policy (drop_oldest, drop_newest)
// drops from a WebSocket connection's outbound queue: one error status per
// episode, from a full queue until half of it has gone out again (or the
// connection is gone), so a burst is one error and never silence
// (docs/decisions/0008-websocket.md). Shared by the server's sessions and
// the client.

#include "broker/configuration.hh"

#include <cstddef>
#include <string>
#include <utility>

namespace broker::websocket {

class drop_episode {
public:
  /// Whether this drop starts an episode, which the caller reports.
  bool begins() noexcept { return !std::exchange(active_, true); }

  /// After a write: with half the queue out, the next drop is reported.
  void written(size_t queued, size_t limit) noexcept {
    if (active_ && queued <= limit / 2)
      active_ = false;
  }

  void end() noexcept { active_ = false; }

private:
  bool active_ = false;
};

/// "<who> does not keep up: <limit> <what> queued (web_socket_buffer_size),
/// dropping the newest|oldest".
inline std::string overflow_report(const std::string& who, size_t limit,
                                   const char* what, overflow_policy policy) {
  return who + " does not keep up: " + std::to_string(limit) + " " + what
         + " queued (web_socket_buffer_size), "
         + (policy == overflow_policy::drop_newest ? "dropping the newest"
                                                   : "dropping the oldest");
}

} // namespace broker::websocket
