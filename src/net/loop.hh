#pragma once

// The event loop of an endpoint: one Asio io_context run by one I/O thread.
// Everything that touches sockets, peers and routing runs on that thread;
// other threads only post() work to it. This header hides Asio so that the
// layers above never include it.

#include "broker/time.hh"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

namespace broker::net {

class loop {
public:
  using timer_id = uint64_t;

  loop();
  ~loop();

  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;

  /// Starts the I/O thread.
  void start();

  /// Stops the event loop and joins the I/O thread. Idempotent. Work still
  /// queued is discarded. Must not be called from the I/O thread.
  void stop();

  /// Runs `f` on the I/O thread. Thread-safe. Work posted after (or
  /// racing with) stop() never runs: see stopped().
  void post(std::function<void()> f);

  /// Whether stop() ran: posted work that has not run by now never will.
  bool stopped() const noexcept {
    return stopped_.load(std::memory_order_acquire);
  }

  /// @returns whether the caller runs on the I/O thread.
  bool in_loop_thread() const noexcept;

  /// Runs `f` when the current batch of handlers ends (net/batch_end.hh):
  /// for writes that should gather what the batch produces.
  /// @pre called on the I/O thread.
  void defer(std::function<void()> f);

  /// Handlers run back to back before deferred work runs.
  static constexpr int max_batch = 128;

  /// Runs `f` on the I/O thread after `delay` unless cancelled first.
  /// @pre called on the I/O thread.
  timer_id schedule(timespan delay, std::function<void()> f);

  /// Cancels a scheduled function. Unknown ids are ignored.
  /// @pre called on the I/O thread.
  void cancel(timer_id id);

  /// The Asio io_context (an `asio::io_context*`), for src/net only.
  void* native_handle() noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::atomic<bool> stopped_{false};
};

} // namespace broker::net
