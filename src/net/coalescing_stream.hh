#pragma once

// A byte-stream layer under Boost.Beast's WebSocket stream (and under the
// TLS stream, for wss://): Beast writes each message with its own write
// and reads 1.5 KiB at a time, which on loopback makes the syscalls cost
// more than everything else a message needs. This layer
//
// - completes writes at once into a buffer that goes out in one write when
//   the loop's batch of handlers ends (net/batch_end.hh), or when the write
//   in flight completes; a writer that finds more than `high_water` bytes
//   buffered waits until they leave, so memory stays bounded and a client
//   that stops reading still fills the WebSocket queue above us (where the
//   overflow policy applies);
// - reads 64 KiB at a time and serves Beast's small reads from that.
//
// Framing, masking and control frames stay Beast's. All calls run on the
// loop's I/O thread. Private to src/net.

#include "net/asio.hh"
#include "net/batch_end.hh"

#include <boost/beast/core.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <memory>
#include <vector>

namespace broker::net {

namespace beast = boost::beast;

template <class Next>
class coalescing_stream {
public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;
  // asio's TLS stream names the socket under it this way.
  using lowest_layer_type = typename Next::socket_type;

  static constexpr size_t read_size = 64 * 1024;
  static constexpr size_t high_water = 64 * 1024;

  template <class Arg>
  explicit coalescing_stream(Arg&& arg)
    : next_(std::forward<Arg>(arg)), rbuf_(read_size) {}

  // Deferred work and completions of our own writes capture `this`: the
  // object must stay where it is, and they check `alive_` first.
  coalescing_stream(const coalescing_stream&) = delete;
  coalescing_stream& operator=(const coalescing_stream&) = delete;

  ~coalescing_stream() { *alive_ = false; }

  executor_type get_executor() noexcept { return next_.get_executor(); }

  Next& next_layer() noexcept { return next_; }

  lowest_layer_type& lowest_layer() noexcept { return next_.socket(); }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& bufs, Handler&& handler) {
    return asio::async_initiate<Handler, void(error_code, size_t)>(
      [this](auto h, const MutableBuffers& b) {
        this->start_read(std::move(h), b);
      },
      handler, bufs);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& bufs, Handler&& handler) {
    return asio::async_initiate<Handler, void(error_code, size_t)>(
      [this](auto h, const ConstBuffers& b) {
        this->start_write(std::move(h), b);
      },
      handler, bufs);
  }

  /// Calls `h(error)` once everything buffered is written (or failed).
  template <class Handler>
  void async_flush(Handler h) {
    if (error_ || (wbuf_.empty() && !writing_)) {
      complete(std::move(h), error_);
      return;
    }
    flush_waiter_ = make_waiter(
      [h = std::move(h)](error_code err, size_t) mutable { h(err); });
    flush();
  }

  /// The connection is being torn down: whoever waits for a write learns
  /// it through the executor. A parked handler owns its operation, which
  /// may own the stream above us: left parked in a socket that never
  /// completes, it would keep both alive forever.
  void abandon() {
    if (auto w = std::move(blocked_))
      call_later(std::move(w), asio::error::operation_aborted);
    if (auto w = std::move(flush_waiter_))
      call_later(std::move(w), asio::error::operation_aborted);
  }

private:
  /// A parked completion handler (Beast's handlers are move-only).
  struct waiter {
    virtual ~waiter() = default;
    virtual void call(error_code err, size_t n) = 0;
  };

  template <class H>
  struct waiter_impl final : waiter {
    explicit waiter_impl(H h) : h(std::move(h)) {}
    void call(error_code err, size_t n) override { h(err, n); }
    H h;
  };

  template <class H>
  static std::unique_ptr<waiter> make_waiter(H h) {
    return std::make_unique<waiter_impl<H>>(std::move(h));
  }

  /// Completes `h` through its executor (the stream's, unless it has its
  /// own: net/chain_executor.hh): never from inside the initiation.
  template <class H, class... Ts>
  void complete(H h, Ts... xs) {
    auto ex = asio::get_associated_executor(h, get_executor());
    asio::post(asio::bind_executor(
      ex, beast::bind_front_handler(std::move(h), xs...)));
  }

  template <class H, class MutableBuffers>
  void start_read(H h, const MutableBuffers& bufs) {
    if (rpos_ < rend_) {
      auto n = asio::buffer_copy(bufs, asio::buffer(rbuf_.data() + rpos_,
                                                    rend_ - rpos_));
      rpos_ += n;
      complete(std::move(h), error_code{}, n);
      return;
    }
    if (asio::buffer_size(bufs) == 0) {
      complete(std::move(h), error_code{}, size_t{0});
      return;
    }
    next_.async_read_some(
      asio::buffer(rbuf_),
      [this, alive = alive_, bufs, h = std::move(h)](error_code err,
                                                     size_t n) mutable {
        // Our reads run on behalf of Beast's, which keep the stream alive;
        // the check is for a stream destroyed with the socket.
        if (!*alive || err) {
          h(*alive ? err : error_code{asio::error::operation_aborted},
            size_t{0});
          return;
        }
        rpos_ = 0;
        rend_ = n;
        auto copied = asio::buffer_copy(bufs, asio::buffer(rbuf_.data(), n));
        rpos_ = copied;
        h(err, copied);
      });
  }

  template <class H, class ConstBuffers>
  void start_write(H h, const ConstBuffers& bufs) {
    if (error_) {
      complete(std::move(h), error_, size_t{0});
      return;
    }
    size_t n = 0;
    for (auto i = asio::buffer_sequence_begin(bufs);
         i != asio::buffer_sequence_end(bufs); ++i) {
      asio::const_buffer b{*i};
      auto* p = static_cast<const char*>(b.data());
      wbuf_.insert(wbuf_.end(), p, p + b.size());
      n += b.size();
    }
    if (wbuf_.size() > high_water) {
      // Completes when these bytes start to leave (flush()).
      blocked_ = make_waiter(
        [h = std::move(h), n](error_code err, size_t) mutable {
          h(err, err ? size_t{0} : n);
        });
    } else {
      complete(std::move(h), error_code{}, n);
    }
    schedule_flush();
  }

  void schedule_flush() {
    if (flush_scheduled_ || writing_)
      return;
    flush_scheduled_ = true;
    defer_to_batch_end(get_executor(), [this, alive = alive_] {
      if (!*alive)
        return;
      flush_scheduled_ = false;
      flush();
    });
  }

  void flush() {
    if (writing_ || error_)
      return;
    if (wbuf_.empty()) {
      if (auto w = std::move(flush_waiter_))
        w->call(error_, 0);
      return;
    }
    writing_ = true;
    out_.swap(wbuf_);
    if (auto w = std::move(blocked_))
      call_later(std::move(w), error_code{});
    asio::async_write(next_, asio::buffer(out_),
                      [this, alive = alive_](error_code err, size_t) {
                        if (!*alive)
                          return;
                        writing_ = false;
                        out_.clear();
                        if (err) {
                          fail(err);
                          return;
                        }
                        // What came meanwhile goes when the batch ends,
                        // with what the rest of the batch adds.
                        if (!wbuf_.empty() || flush_waiter_)
                          schedule_flush();
                      });
  }

  /// A write failed: whoever waits learns it; later writes fail at once.
  void fail(error_code err) {
    error_ = err;
    wbuf_.clear();
    if (auto w = std::move(blocked_))
      w->call(err, 0);
    if (auto w = std::move(flush_waiter_))
      w->call(err, 0);
  }

  void call_later(std::unique_ptr<waiter> w, error_code err) {
    asio::post(get_executor(),
               [w = std::move(w), err]() mutable { w->call(err, 0); });
  }

  Next next_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<char> rbuf_;
  size_t rpos_ = 0;
  size_t rend_ = 0;
  std::vector<char> wbuf_; // filled by writers
  std::vector<char> out_;  // being written
  bool writing_ = false;
  bool flush_scheduled_ = false;
  error_code error_;
  std::unique_ptr<waiter> blocked_;
  std::unique_ptr<waiter> flush_waiter_;
};

/// Beast's closing handshake ends with a teardown of the layer under the
/// WebSocket stream: the Close frame must be out of our buffer first.
template <class Next, class Handler>
void async_teardown(beast::role_type role, coalescing_stream<Next>& s,
                    Handler&& handler) {
  s.async_flush([&s, role, h = std::forward<Handler>(handler)](
                  error_code) mutable {
    using beast::websocket::async_teardown;
    async_teardown(role, s.next_layer(), std::move(h));
  });
}

} // namespace broker::net
