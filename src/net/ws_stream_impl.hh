#pragma once

// The Beast-based implementation of ws_stream, private to src/net (the
// listener and the connector create it). One template for both transports:
// `Next` is plain_next for ws:// and tls_next for wss://; both put a
// coalescing_stream right above the TCP stream.

#include "net/asio.hh"
#include "net/chain_executor.hh"
#include "net/coalescing_stream.hh"
#include "net/ws_stream.hh"

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>

namespace broker::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

/// Beast's TCP stream (for its handshake timeouts) on the io_context's
/// own executor type: the type-erased default costs a copy and a destroy
/// per handler, which shows at a few hundred thousand messages a second.
using tcp_layer = beast::basic_stream<asio::ip::tcp,
                                      asio::io_context::executor_type,
                                      beast::unlimited_rate_policy>;
using plain_next = coalescing_stream<tcp_layer>;
using tls_next = beast::ssl_stream<coalescing_stream<tcp_layer>>;

/// Moves a connected socket onto tcp_layer's executor type. On failure the
/// result is closed, and the handshake on it fails.
inline tcp_layer::socket_type rebind(asio::ip::tcp::socket&& sock) {
  auto& ctx = static_cast<asio::io_context&>(
    asio::query(sock.get_executor(), asio::execution::context));
  tcp_layer::socket_type result{ctx.get_executor()};
  error_code err;
  auto protocol = sock.local_endpoint(err).protocol();
  if (!err) {
    auto fd = sock.release(err);
    if (!err)
      result.assign(protocol, fd, err);
  }
  return result;
}

template <class Next>
class ws_stream_impl final
  : public ws_stream,
    public std::enable_shared_from_this<ws_stream_impl<Next>> {
public:
  using ws_type = websocket::stream<Next>;

  template <class... Ts>
  explicit ws_stream_impl(const ws_settings& settings, Ts&&... xs)
    : settings_(settings), ws_(std::forward<Ts>(xs)...),
      ping_timer_(ws_.get_executor()), close_timer_(ws_.get_executor()),
      chain_(chain_executor::for_executor(ws_.get_executor())) {}

  ws_type& ws() noexcept { return ws_; }

  void set_remote(std::string addr, uint16_t port) {
    remote_addr_ = std::move(addr);
    remote_port_ = port;
  }

  void set_request(std::string target, bool has_app, std::string app) {
    target_ = std::move(target);
    has_app_name_ = has_app;
    app_name_ = std::move(app);
  }

  /// Applies the settings that hold once the upgrade is done.
  void configure() {
    // Beast's own timeouts bound the closing handshake; liveness is ours
    // (the PING schedule of §1.5), so no idle timeout.
    websocket::stream_base::timeout opt{settings_.handshake_timeout,
                                        websocket::stream_base::none(), false};
    ws_.set_option(opt);
    ws_.read_message_max(settings_.max_message_size);
    ws_.auto_fragment(false);
    ws_.control_callback(
      [this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::pong)
          pong_seen_ = true;
      });
  }

  void start(handler* h) override {
    handler_ = h;
    do_read();
    if (settings_.ping_interval.count() > 0)
      schedule_ping();
  }

  void send(ws_message_ptr text) override {
    if (closing_)
      return;
    queue_.push_back(std::move(text));
    if (!writing_)
      do_write();
  }

  size_t queued() const noexcept override { return queue_.size(); }

  void pause_reading() override { paused_ = true; }

  void resume_reading() override {
    if (!paused_)
      return;
    paused_ = false;
    if (!reading_ && !closing_)
      do_read();
  }

  bool drop_oldest_queued() override {
    size_t first = writing_ ? 1 : 0;
    if (queue_.size() <= first)
      return false;
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(first));
    return true;
  }

  void close(uint16_t code, std::string reason) override {
    if (closing_)
      return;
    handler_ = nullptr;
    begin_close(code, std::move(reason));
  }

  void abort() override {
    handler_ = nullptr;
    closing_ = true;
    queue_.clear();
    // A reset, not a FIN: a FIN would wait behind unsent data a peer that
    // reads nothing never takes, and that peer would not learn we left.
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(
      asio::socket_base::linger(true, 0), ignored);
    teardown();
  }

  bool closed() const noexcept override { return closing_; }

  bool finished() const noexcept override { return finished_; }

  bool secure() const noexcept override {
    return !std::is_same_v<Next, plain_next>;
  }

private:
  void do_read() {
    reading_ = true;
    auto self = this->shared_from_this();
    // Chained: reading the next buffered message costs no trip through
    // epoll (net/chain_executor.hh).
    auto on_read = [this, self](error_code err, size_t) {
      reading_ = false;
      if (err) {
        on_read_error(err);
        return;
      }
      if (closing_) // reading on only to see the peer's Close
        return;
      // Any message proves the peer alive, like a PONG: a client's PONG
      // may queue behind megabytes of its own messages while we read them
      // slowly (flow control), and must not make it look dead.
      pong_seen_ = true;
      auto bytes = rbuf_.cdata();
      std::string_view text{static_cast<const char*>(bytes.data()),
                            bytes.size()};
      if (handler_)
        handler_->on_message(text);
      rbuf_.clear();
      if (!closing_ && !paused_)
        do_read();
    };
    ws_.async_read(rbuf_, asio::bind_executor(chain_, std::move(on_read)));
  }

  void on_read_error(error_code err) {
    uint16_t code = 1006;
    std::string why;
    if (err == websocket::error::closed) {
      // The peer's Close; Beast has echoed it with the same code.
      auto reason = ws_.reason();
      code = reason.code == websocket::close_code::none
               ? uint16_t{1005}
               : static_cast<uint16_t>(reason.code);
      why = "closed by peer (" + std::to_string(code)
            + (reason.reason.empty() ? "" : " " + std::string(reason.reason.data(), reason.reason.size()))
            + ")";
    } else if (err == websocket::error::message_too_big) {
      code = close_code::too_big; // Beast sent Close 1009
      why = "message larger than " + std::to_string(settings_.max_message_size)
            + " bytes";
    } else {
      why = err.message();
    }
    finish(code, why);
  }

  void do_write() {
    if (queue_.empty() || closing_)
      return;
    writing_ = true;
    ws_.text(true);
    auto self = this->shared_from_this();
    auto& msg = *queue_.front();
    auto on_written = [this, self](error_code err, size_t) {
      writing_ = false;
      if (!queue_.empty())
        queue_.pop_front();
      if (closing_)
        return;
      if (err) {
        finish(1006, err.message());
        return;
      }
      do_write();
      if (handler_)
        handler_->on_written();
    };
    ws_.async_write(asio::buffer(msg.data(), msg.size()),
                    asio::bind_executor(chain_, std::move(on_written)));
  }

  void schedule_ping() {
    ping_timer_.expires_after(settings_.ping_interval);
    auto self = this->shared_from_this();
    ping_timer_.async_wait([this, self](error_code err) {
      if (err || closing_)
        return;
      if (paused_) { // we read nothing, so no PONG either: wait
        schedule_ping();
        return;
      }
      if (ping_outstanding_ && !pong_seen_) {
        auto* h = handler_;
        handler_ = nullptr;
        begin_close(close_code::internal_error, "Ping timeout");
        if (h)
          h->on_closed(close_code::internal_error, "Ping timeout");
        return;
      }
      pong_seen_ = false;
      ping_outstanding_ = true;
      ws_.async_ping({}, [self](error_code) {});
      schedule_ping();
    });
  }

  void begin_close(uint16_t code, std::string reason) {
    closing_ = true;
    ping_timer_.cancel();
    // What is queued is discarded (§1.6); a write in flight completes
    // first, Beast sends the Close after it.
    if (queue_.size() > (writing_ ? 1 : 0))
      queue_.erase(queue_.begin() + (writing_ ? 1 : 0), queue_.end());
    auto self = this->shared_from_this();
    websocket::close_reason cr{static_cast<websocket::close_code>(code),
                               beast::string_view{reason}};
    ws_.async_close(cr, [this, self](error_code) { teardown(); });
    // A peer that reads nothing never lets the write in flight finish, and
    // Beast's close waits for it: bound the whole thing ourselves.
    close_timer_.expires_after(settings_.handshake_timeout);
    close_timer_.async_wait([this, self](error_code err) {
      if (!err)
        teardown();
    });
  }

  /// The connection failed or the peer closed it: report once, stop.
  void finish(uint16_t code, const std::string& why) {
    bool was_closing = closing_;
    closing_ = true;
    queue_.clear();
    ping_timer_.cancel();
    teardown();
    if (was_closing)
      return;
    if (auto* h = handler_) {
      handler_ = nullptr;
      h->on_closed(code, why);
    }
  }

  void teardown() {
    finished_ = true;
    coalescing_layer().abandon();
    ping_timer_.cancel();
    close_timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(
      asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  auto& coalescing_layer() noexcept {
    if constexpr (std::is_same_v<Next, plain_next>)
      return ws_.next_layer();
    else
      return ws_.next_layer().next_layer();
  }

  ws_settings settings_;
  ws_type ws_;
  asio::steady_timer ping_timer_;
  asio::steady_timer close_timer_;
  chain_executor chain_;
  beast::flat_buffer rbuf_;
  std::deque<ws_message_ptr> queue_;
  handler* handler_ = nullptr;
  bool writing_ = false;
  bool reading_ = false;
  bool paused_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool ping_outstanding_ = false;
  bool pong_seen_ = false;
};

} // namespace broker::net
