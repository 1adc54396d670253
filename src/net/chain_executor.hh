#pragma once

// An executor for the completion handlers of WebSocket reads and writes.
// Beast completes every operation that finds its data already buffered
// (most reads and, with coalescing_stream, every write) by posting the
// handler, and Asio's scheduler polls epoll once for every round of posted
// handlers: at a few hundred thousand messages a second the server spent
// more time in epoll_wait(0) and post bookkeeping than in Beast's framing.
//
// Handlers bound to this executor (asio::bind_executor) still never run inside
// the call that started their operation, but they queue here and run back
// to back from one Asio handler: one post and one epoll_wait per chain of
// up to `chain_limit` completions instead of one each. A chain that is
// still going after that many hands over to the rest of the loop's ready
// handlers before it carries on, so one busy connection cannot starve the
// others. Called from another thread it posts to the io_context as usual.
//
// Work tracking: the queue always has a pending Asio handler while it is
// not empty, which keeps the io_context running. Private to src/net.

#include "net/asio.hh"

#include <deque>
#include <memory>

namespace broker::net {

class chain_queue final : public asio::execution_context::service {
public:
  static inline asio::execution_context::id id;

  static constexpr int chain_limit = 64;

  explicit chain_queue(asio::execution_context& ctx)
    : service(ctx), ctx_(static_cast<asio::io_context&>(ctx)) {}

  /// Queues `f`. @pre on the thread that runs the io_context.
  template <class F>
  void push(F&& f) {
    using fn_t = std::decay_t<F>;
    queue_.push_back(std::make_unique<item_impl<fn_t>>(std::forward<F>(f)));
    if (!scheduled_)
      schedule();
  }

private:
  // Beast's handlers are move-only: std::function would not hold them.
  struct item {
    virtual ~item() = default;
    virtual void run() = 0;
  };

  template <class F>
  struct item_impl final : item {
    explicit item_impl(F f) : f(std::move(f)) {}
    void run() override { f(); }
    F f;
  };

  void schedule() {
    scheduled_ = true;
    asio::post(ctx_, [this] { drain(); });
  }

  void drain() {
    // Handlers may throw (the loop reports that and carries on): whatever
    // is left must still run.
    struct resume {
      chain_queue* self;
      ~resume() {
        self->scheduled_ = false;
        if (!self->queue_.empty())
          self->schedule();
      }
    } guard{this};
    for (int i = 0; i < chain_limit && !queue_.empty(); ++i) {
      auto f = std::move(queue_.front());
      queue_.pop_front();
      f->run();
    }
  }

  void shutdown() override { queue_.clear(); }

  asio::io_context& ctx_;
  std::deque<std::unique_ptr<item>> queue_;
  bool scheduled_ = false;
};

class chain_executor {
public:
  /// Looks the queue up once (use_service takes a lock): keep the result.
  explicit chain_executor(asio::io_context& ctx)
    : ctx_(&ctx), queue_(&asio::use_service<chain_queue>(ctx)) {}

  template <class Executor>
  static chain_executor for_executor(const Executor& ex) {
    return chain_executor{static_cast<asio::io_context&>(
      asio::query(ex, asio::execution::context))};
  }

  asio::io_context& query(asio::execution::context_t) const noexcept {
    return *ctx_;
  }

  static constexpr asio::execution::blocking_t
  query(asio::execution::blocking_t) noexcept {
    return asio::execution::blocking.never;
  }

  chain_executor require(asio::execution::blocking_t::never_t) const noexcept {
    return *this;
  }

  template <class F>
  void execute(F&& f) const {
    if (ctx_->get_executor().running_in_this_thread())
      queue_->push(std::forward<F>(f));
    else
      asio::post(*ctx_, std::forward<F>(f));
  }

  friend bool operator==(const chain_executor& x,
                         const chain_executor& y) noexcept {
    return x.ctx_ == y.ctx_;
  }

  friend bool operator!=(const chain_executor& x,
                         const chain_executor& y) noexcept {
    return x.ctx_ != y.ctx_;
  }

private:
  asio::io_context* ctx_;
  chain_queue* queue_;
};

} // namespace broker::net
