#pragma once

// A file descriptor that is readable exactly while "lit": an eventfd
// (Linux). Queues light it on the empty -> non-empty edge and extinguish it
// when the last item is taken, so select/poll/asyncio can wait on it.

namespace broker::detail {

class flare {
public:
  flare();
  ~flare();

  flare(const flare&) = delete;
  flare& operator=(const flare&) = delete;

  /// The descriptor to poll for readability.
  int fd() const noexcept { return fd_; }

  /// Makes fd() readable. Idempotent.
  void fire() noexcept;

  /// Makes fd() unreadable again. Idempotent.
  void extinguish() noexcept;

private:
  int fd_;
};

} // namespace broker::detail
