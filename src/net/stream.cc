#include "net/stream.hh"

#include <asio.hpp>

#include <cstring>

namespace broker::net {

namespace {

constexpr size_t read_chunk = 64 * 1024;

} // namespace

struct stream::impl {
  explicit impl(asio::ip::tcp::socket sock) : socket(std::move(sock)) {}
  asio::ip::tcp::socket socket;
};

stream::stream(loop& owner) : loop_(owner) {}

stream::~stream() = default;

std::shared_ptr<stream> stream::make(loop& owner, void* native_socket) {
  auto* sock = static_cast<asio::ip::tcp::socket*>(native_socket);
  std::shared_ptr<stream> result{new stream(owner)};
  result->impl_ = std::make_unique<impl>(std::move(*sock));
  asio::error_code ec;
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
  impl_->socket.async_read_some(
    asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
    [this, self](const asio::error_code& err, size_t n) {
      reading_ = false;
      if (closed_ || closing_)
        return;
      if (err) {
        fail(err == asio::error::eof
               ? error{ec::peer_disconnect_during_handshake, "connection closed"}
               : error{ec::peer_unavailable, err.message()});
        return;
      }
      rend_ += n;
      process_input();
      do_read();
    });
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
    do_write();
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
      asio::error_code ec;
      impl_->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      impl_->socket.close(ec);
    }
    return;
  }
  // Gather up to 512 queued frames into one write (IOV_MAX is 1024).
  std::vector<asio::const_buffer> bufs;
  in_flight_ = std::min<size_t>(queue_.size(), 512);
  bufs.reserve(in_flight_);
  for (size_t i = 0; i < in_flight_; ++i)
    bufs.emplace_back(queue_[i]->data(), queue_[i]->size());
  auto self = shared_from_this();
  asio::async_write(impl_->socket, bufs,
                    [this, self](const asio::error_code& err, size_t) {
                      if (closed_)
                        return;
                      queue_.erase(queue_.begin(),
                                   queue_.begin()
                                     + static_cast<std::ptrdiff_t>(in_flight_));
                      in_flight_ = 0;
                      if (err) {
                        fail(error{ec::peer_unavailable, err.message()});
                        return;
                      }
                      do_write();
                      if (handler_)
                        handler_->on_written();
                    });
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
  asio::error_code ec;
  impl_->socket.close(ec);
}

void stream::fail(error reason) {
  if (closed_)
    return;
  closed_ = true;
  queue_.clear();
  asio::error_code ec;
  impl_->socket.close(ec);
  if (auto* h = handler_) {
    handler_ = nullptr;
    h->on_closed(reason);
  }
}

} // namespace broker::net
