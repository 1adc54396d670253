#include "net/stream.hh"

#include "net/asio.hh"

#include <cstring>
#include <optional>

namespace broker::net {

namespace {

constexpr size_t read_chunk = 64 * 1024;

// Frames gathered into one write: the iovec limit (IOV_MAX is 1024) for
// plain sockets; for TLS, which encrypts one contiguous buffer at a time,
// the bytes copied into one buffer (a few full 16 KiB records).
constexpr size_t max_gathered_frames = 512;
constexpr size_t max_tls_write_bytes = 64 * 1024;

using tls_stream = asio::ssl::stream<asio::ip::tcp::socket&>;

} // namespace

struct stream::impl {
  explicit impl(asio::ip::tcp::socket sock) : socket(std::move(sock)) {}
  asio::ip::tcp::socket socket;
  // Declared after `socket`, which it references: destroyed first.
  std::optional<tls_stream> tls;
  tls_context_ptr tls_ctx; // keeps the SSL_CTX alive as long as `tls`
  std::optional<asio::steady_timer> tls_timer;
  std::vector<std::byte> wbuf; // TLS writes: the gathered frames, copied

  /// Calls `f` with the byte stream to use: the TLS layer or the socket.
  template <class F>
  void with_stream(F&& f) {
    if (tls)
      f(*tls);
    else
      f(socket);
  }
};

stream::stream(loop& owner) : loop_(owner) {}

stream::~stream() = default;

std::shared_ptr<stream> stream::make(loop& owner, void* native_socket) {
  auto* sock = static_cast<asio::ip::tcp::socket*>(native_socket);
  std::shared_ptr<stream> result{new stream(owner)};
  result->impl_ = std::make_unique<impl>(std::move(*sock));
  error_code ec;
  result->impl_->socket.set_option(asio::ip::tcp::no_delay{true}, ec);
  auto ep = result->impl_->socket.remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    result->remote_addr_ = addr.to_string();
    result->remote_port_ = ep.port();
  }
  return result;
}

void stream::start(handler* h) {
  handler_ = h;
  rbuf_.resize(read_chunk);
  do_read();
}

bool stream::secure() const noexcept {
  return impl_->tls.has_value();
}

void stream::start_tls(const tls_context_ptr& ctx, tls_role role,
                       timespan timeout,
                       std::function<void(const error&)> done) {
  auto& ssl_ctx = *static_cast<asio::ssl::context*>(ctx->native_handle());
  impl_->tls_ctx = ctx;
  impl_->tls.emplace(impl_->socket, ssl_ctx);
  impl_->tls_timer.emplace(impl_->socket.get_executor());
  auto self = shared_from_this();
  auto timed_out = std::make_shared<bool>(false);
  impl_->tls_timer->expires_after(timeout);
  impl_->tls_timer->async_wait([this, self, timed_out](const error_code&
                                                         err) {
    if (err || closed_)
      return;
    // Closing the socket makes the pending handshake fail at once.
    *timed_out = true;
    error_code ignored;
    impl_->socket.close(ignored);
  });
  auto type = role == tls_role::server ? asio::ssl::stream_base::server
                                       : asio::ssl::stream_base::client;
  impl_->tls->async_handshake(
    type, [this, self, timed_out, done = std::move(done)](
            const error_code& err) {
      impl_->tls_timer->cancel();
      if (closed_) {
        done(error{ec::shutting_down, "connection closed"});
        return;
      }
      if (*timed_out) {
        closed_ = true;
        done(error{ec::peer_timeout, "TLS handshake with " + remote_addr_ + ":"
                                       + std::to_string(remote_port_)
                                       + " timed out"});
        return;
      }
      if (err) {
        closed_ = true;
        close_socket();
        done(error{ec::peer_unavailable,
                   "TLS handshake with " + remote_addr_ + ":"
                     + std::to_string(remote_port_) + " failed: "
                     + err.message()});
        return;
      }
      done(error{});
    });
}

void stream::do_read() {
  if (reading_ || paused_ || closing_ || closed_)
    return;
  if (rbuf_.size() - rend_ < read_chunk / 4) {
    // Compact, then grow if a large frame needs the room.
    if (rpos_ > 0) {
      std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
      rend_ -= rpos_;
      rpos_ = 0;
    }
    if (rbuf_.size() - rend_ < read_chunk / 4)
      rbuf_.resize(rbuf_.size() + read_chunk);
  }
  reading_ = true;
  auto self = shared_from_this();
  auto on_read = [this, self](const error_code& err, size_t n) {
    reading_ = false;
    if (closed_ || closing_)
      return;
    if (err) {
      // A TLS peer that closes without close_notify is a plain EOF to us:
      // the BYE exchange already ended the session in good order.
      bool eof = err == asio::error::eof
                 || err == asio::ssl::error::stream_truncated;
      if (eof)
        fail(error{ec::peer_disconnect_during_handshake, "connection closed"});
      else if (err.category() == asio::error::get_ssl_category())
        fail(error{ec::peer_unavailable, "TLS error from " + remote_addr_ + ":"
                                           + std::to_string(remote_port_) + ": "
                                           + err.message()});
      else
        fail(error{ec::peer_unavailable, err.message()});
      return;
    }
    rend_ += n;
    process_input();
    do_read();
  };
  auto buf = asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_);
  impl_->with_stream(
    [&](auto& s) { s.async_read_some(buf, std::move(on_read)); });
}

void stream::process_input() {
  while (!paused_ && !closed_ && !closing_ && rend_ - rpos_ >= 4) {
    uint32_t len_be;
    std::memcpy(&len_be, rbuf_.data() + rpos_, 4);
    auto len = static_cast<size_t>(__builtin_bswap32(len_be));
    if (len == 0 && reject_empty_) {
      fail(error{ec::invalid_message, "zero-length frame"});
      return;
    }
    if (len > default_max_frame_size) {
      fail(error{ec::invalid_message,
                 "oversized frame of " + std::to_string(len) + " bytes"});
      return;
    }
    if (rend_ - rpos_ < 4 + len) {
      // Incomplete: make room for the whole frame before reading on.
      if (rbuf_.size() - rpos_ < 4 + len) {
        std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
        rend_ -= rpos_;
        rpos_ = 0;
        if (rbuf_.size() < 4 + len)
          rbuf_.resize(4 + len + read_chunk / 4);
      }
      return;
    }
    auto* payload = rbuf_.data() + rpos_ + 4;
    rpos_ += 4 + len;
    handler_->on_frame(std::span<const std::byte>{payload, len});
  }
  if (rpos_ == rend_)
    rpos_ = rend_ = 0;
}

void stream::write(frame_ptr frame) {
  if (closed_)
    return;
  queue_.push_back(std::move(frame));
  if (in_flight_ == 0)
    schedule_write();
}

void stream::schedule_write() {
  // Written when the loop's batch ends, together with whatever else the
  // batch queues for this peer.
  if (flush_scheduled_)
    return;
  flush_scheduled_ = true;
  loop_.defer([this, self = shared_from_this()] {
    flush_scheduled_ = false;
    if (in_flight_ == 0)
      do_write();
  });
}

bool stream::drop_oldest_queued() {
  if (queue_.size() <= in_flight_)
    return false;
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
  return true;
}

void stream::do_write() {
  if (queue_.empty() || closed_) {
    if (closing_ && queue_.empty() && !closed_) {
      closed_ = true;
      error_code ec;
      impl_->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      impl_->socket.close(ec);
    }
    return;
  }
  auto self = shared_from_this();
  auto on_written = [this, self](const error_code& err, size_t) {
    if (closed_)
      return;
    queue_.erase(queue_.begin(),
                 queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
    in_flight_ = 0;
    if (err) {
      fail(error{ec::peer_unavailable, err.message()});
      return;
    }
    // What came meanwhile goes when the batch ends, with what the rest of
    // the batch adds; a closing stream finishes at once.
    if (closing_)
      do_write();
    else if (!queue_.empty())
      schedule_write();
    if (handler_)
      handler_->on_written();
  };
  if (impl_->tls) {
    // asio's TLS stream writes only the first buffer of a sequence per
    // record, so many small frames would cost a record and a syscall each:
    // copy them into one buffer instead.
    auto& wbuf = impl_->wbuf;
    wbuf.clear();
    in_flight_ = 0;
    while (in_flight_ < queue_.size() && in_flight_ < max_gathered_frames
           && (in_flight_ == 0 || wbuf.size() < max_tls_write_bytes)) {
      auto& f = *queue_[in_flight_++];
      wbuf.insert(wbuf.end(), f.begin(), f.end());
    }
    asio::async_write(*impl_->tls, asio::buffer(wbuf), std::move(on_written));
    return;
  }
  std::vector<asio::const_buffer> bufs;
  in_flight_ = std::min(queue_.size(), max_gathered_frames);
  bufs.reserve(in_flight_);
  for (size_t i = 0; i < in_flight_; ++i)
    bufs.emplace_back(queue_[i]->data(), queue_[i]->size());
  asio::async_write(impl_->socket, bufs, std::move(on_written));
}

void stream::pause_reading() {
  paused_ = true;
}

void stream::resume_reading() {
  if (!paused_)
    return;
  paused_ = false;
  // Deliver what was already read, then read on. Posted so that a resume
  // from inside a handler callback does not re-enter process_input.
  auto self = shared_from_this();
  loop_.post([this, self] {
    if (closed_ || closing_ || paused_)
      return;
    process_input();
    do_read();
  });
}

void stream::close() {
  if (closed_ || closing_)
    return;
  closing_ = true;
  handler_ = nullptr;
  if (in_flight_ == 0)
    do_write();
}

void stream::abort() {
  if (closed_)
    return;
  closed_ = true;
  handler_ = nullptr;
  queue_.clear();
  close_socket();
}

void stream::close_socket() {
  error_code ec;
  impl_->socket.close(ec);
  if (impl_->tls_timer)
    impl_->tls_timer->cancel();
}

void stream::fail(error reason) {
  if (closed_)
    return;
  closed_ = true;
  queue_.clear();
  close_socket();
  if (auto* h = handler_) {
    handler_ = nullptr;
    h->on_closed(reason);
  }
}

} // namespace broker::net
