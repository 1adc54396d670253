#include "net/loop.hh"

#include "net/asio.hh"
#include "net/batch_end.hh"

#include <unordered_map>

namespace broker::net {

struct loop::impl {
  asio::io_context ctx{1};
  batch_end& batch = asio::make_service<batch_end>(ctx);
  // Keeps run() from returning while idle.
  asio::executor_work_guard<asio::io_context::executor_type> guard{
    ctx.get_executor()};
  std::thread thread;
  std::thread::id thread_id;
  timer_id next_timer = 1;
  std::unordered_map<timer_id, std::unique_ptr<asio::steady_timer>> timers;
};

loop::loop() : impl_(std::make_unique<impl>()) {}

loop::~loop() {
  stop();
}

void loop::start() {
  impl_->thread = std::thread([this] {
    impl_->thread_id = std::this_thread::get_id();
    // The I/O thread must survive anything a handler throws: report and
    // carry on (handlers are supposed to turn failures into statuses).
    for (;;) {
      try {
        // run() with a pause after each batch: up to max_batch handlers,
        // fewer when no more are ready, then the deferred writes.
        auto& ctx = impl_->ctx;
        while (ctx.run_one() > 0) {
          for (int i = 1; i < max_batch && ctx.poll_one() > 0; ++i) {
          }
          impl_->batch.run();
        }
        return;
      } catch (const std::exception& ex) {
        fprintf(stderr, "broker: uncaught exception on the I/O thread: %s\n",
                ex.what());
      } catch (...) {
        fprintf(stderr, "broker: uncaught exception on the I/O thread\n");
      }
    }
  });
}

void loop::stop() {
  if (!impl_->thread.joinable())
    return;
  impl_->guard.reset();
  impl_->ctx.stop();
  impl_->thread.join();
  impl_->timers.clear();
  stopped_.store(true, std::memory_order_release);
}

void loop::post(std::function<void()> f) {
  asio::post(impl_->ctx, std::move(f));
}

void loop::defer(std::function<void()> f) {
  impl_->batch.defer(std::move(f));
}

bool loop::in_loop_thread() const noexcept {
  return std::this_thread::get_id() == impl_->thread_id;
}

loop::timer_id loop::schedule(timespan delay, std::function<void()> f) {
  auto id = impl_->next_timer++;
  auto timer = std::make_unique<asio::steady_timer>(impl_->ctx);
  timer->expires_after(delay);
  timer->async_wait([this, id, f = std::move(f)](const error_code& err) {
    if (err)
      return; // cancelled
    impl_->timers.erase(id);
    f();
  });
  impl_->timers.emplace(id, std::move(timer));
  return id;
}

void loop::cancel(timer_id id) {
  if (auto i = impl_->timers.find(id); i != impl_->timers.end()) {
    i->second->cancel();
    impl_->timers.erase(i);
  }
}

void* loop::native_handle() noexcept {
  return &impl_->ctx;
}

} // namespace broker::net
