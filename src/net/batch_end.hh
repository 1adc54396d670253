#pragma once

// Work that waits for the end of the current batch of handlers on the I/O
// thread. The loop runs handlers in batches (up to loop::max_batch, or
// until none is ready) and then runs what was deferred here. Writers use it
// to coalesce: a connection that gets 100 messages while the loop works
// through 100 inbound messages writes them with one syscall at the end of
// the batch instead of 100 (the TCP send on loopback costs more than
// encoding a message). Private to src/net.

#include "net/asio.hh"

#include <deque>
#include <functional>

namespace broker::net {

class batch_end final : public asio::execution_context::service {
public:
  static inline asio::execution_context::id id;

  explicit batch_end(asio::execution_context& ctx) : service(ctx) {}

  /// Runs `f` when the current batch ends. @pre on the I/O thread.
  void defer(std::function<void()> f) { pending_.push_back(std::move(f)); }

  /// Runs what was deferred, including what that defers in turn.
  void run() {
    while (!pending_.empty()) {
      auto f = std::move(pending_.front());
      pending_.pop_front();
      f();
    }
  }

private:
  void shutdown() override { pending_.clear(); }

  std::deque<std::function<void()>> pending_;
};

/// Defers `f` to the end of the batch on `ex`'s I/O thread; posts it when
/// no loop drives that context (nothing would run it otherwise).
template <class Executor>
void defer_to_batch_end(const Executor& ex, std::function<void()> f) {
  auto& ctx = asio::query(ex, asio::execution::context);
  if (asio::has_service<batch_end>(ctx))
    asio::use_service<batch_end>(ctx).defer(std::move(f));
  else
    asio::post(ex, std::move(f));
}

} // namespace broker::net
