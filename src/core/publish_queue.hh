#pragma once

// The bounded queue between publishing threads (local code, stores) and
// the I/O thread. Publishers block while it is full, until a deadline; the
// I/O thread takes batches and may put back what it could not send yet
// (flow control). A flare is lit while there is room (Publisher.fd()).

#include "broker/endpoint_id.hh"
#include "core/participant.hh"
#include "net/stream.hh"
#include "util/flare.hh"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace broker::detail {

/// A message published by this endpoint: the complete frame, encoded once
/// by the publishing thread and shared among all peers it goes to.
struct outgoing_message {
  std::string topic;
  endpoint_id receiver; // nil: by topic
  net::frame_ptr frame;
  /// A data message's value, for local subscribers and participants. Set by
  /// participants (whose publications local subscribers receive); left
  /// empty by local code, whose messages are decoded from `frame` only when
  /// a participant wants them.
  data_message_ptr value = nullptr;
  /// The participant that published it (never echoed back to it), or none
  /// for local code.
  std::optional<participant_id> from = std::nullopt;
};

class publish_queue {
public:
  using clock = std::chrono::steady_clock;

  /// `wake` runs (on the publishing thread) when the queue has work and no
  /// drain is scheduled yet: it posts a drain to the I/O thread.
  publish_queue(size_t capacity, std::function<void()> wake);

  /// Appends `msgs`, waiting while the queue is full.
  /// @returns false once closed or when the deadline passed.
  bool push(std::vector<outgoing_message> msgs, clock::time_point deadline);

  /// Takes up to `max` messages (I/O thread). An empty result means the
  /// queue is empty, and the next push wakes the I/O thread again.
  std::deque<outgoing_message> take(size_t max);

  /// Puts back messages that could not be sent yet, in front and in order.
  /// The I/O thread resumes draining by itself (no wake until take()).
  void put_back(std::deque<outgoing_message> msgs);

  size_t size();
  size_t capacity() const noexcept { return capacity_; }
  int fd() const noexcept { return room_.fd(); }

  /// Wakes blocked publishers and drops what is queued (shutdown).
  void close();

private:
  size_t capacity_;
  std::function<void()> wake_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<outgoing_message> queue_;
  bool scheduled_ = false; // a drain is posted or under way
  bool closed_ = false;
  // Lit while there is room; toggled only on full <-> not full.
  flare room_;
};

} // namespace broker::detail
