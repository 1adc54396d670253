#pragma once

// A framed TCP connection, plain or TLS: every message is a 4-byte
// big-endian length plus that many bytes (wire-protocol.md §1). Reads
// deliver whole frames to a handler; writes take complete frames (length
// included) and keep exactly one write in flight, gathering everything
// queued meanwhile. TLS is a layer under the framing (start_tls), so the
// code above the stream is the same for both.
//
// All member functions run on the loop's I/O thread.

#include "broker/error.hh"
#include "broker/time.hh"
#include "net/loop.hh"
#include "net/tls.hh"

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace broker::net {

using frame_ptr = std::shared_ptr<const std::vector<std::byte>>;

class stream : public std::enable_shared_from_this<stream> {
public:
  /// Receives events; runs on the I/O thread.
  struct handler {
    virtual ~handler() = default;
    /// A complete frame payload (without the length). Valid during the call.
    virtual void on_frame(std::span<const std::byte> payload) = 0;
    /// The connection closed (EOF, error or a framing violation). Called
    /// once, never after close()/abort().
    virtual void on_closed(const error& reason) = 0;
    /// A write completed, so queued() shrank.
    virtual void on_written() {}
  };

  /// Frames above this size drop the connection (the protocol allows up to
  /// 2^31-5 bytes; nothing legitimate comes close).
  static constexpr size_t default_max_frame_size = 256 * 1024 * 1024;

  ~stream();

  /// Starts reading. `h` must outlive the stream or call close()/abort().
  void start(handler* h);

  /// Which end of the TLS handshake this stream is.
  enum class tls_role { client, server };

  /// Runs the TLS handshake with `ctx`; must precede start(). `done` gets
  /// the outcome (a default error on success); the handshake fails with
  /// ec::peer_timeout when it has not finished after `timeout`.
  void start_tls(const tls_context_ptr& ctx, tls_role role, timespan timeout,
                 std::function<void(const error&)> done);

  /// Whether the stream runs over TLS.
  bool secure() const noexcept;

  /// Queues a complete frame (length prefix included) for writing; the
  /// write starts when the loop's current batch ends.
  void write(frame_ptr frame);

  /// Frames queued or in flight.
  size_t queued() const noexcept { return queue_.size(); }

  /// Drops the oldest frame that is not in flight. @returns false if none.
  bool drop_oldest_queued();

  /// Stops delivering frames until resume_reading().
  void pause_reading();
  void resume_reading();

  /// Stops reading, writes what is queued, then closes. No more callbacks.
  void close();

  /// Closes at once, discarding queued frames. No more callbacks.
  void abort();

  /// Whether close()/abort() was called or the connection failed.
  bool closed() const noexcept { return closed_; }

  const std::string& remote_address() const noexcept { return remote_addr_; }
  uint16_t remote_port() const noexcept { return remote_port_; }

  /// Treats a zero-length frame as a protocol violation (handshake phase).
  void reject_empty_frames(bool value) noexcept { reject_empty_ = value; }

  /// Takes ownership of a connected socket (an `asio::ip::tcp::socket*`).
  static std::shared_ptr<stream> make(loop& owner, void* native_socket);

private:
  struct impl;

  explicit stream(loop& owner);

  void do_read();
  void process_input();
  void schedule_write();
  void do_write();
  void fail(error reason);
  void close_socket();

  loop& loop_;
  std::unique_ptr<impl> impl_;
  handler* handler_ = nullptr;
  std::vector<std::byte> rbuf_;
  size_t rpos_ = 0; // start of unprocessed input in rbuf_
  size_t rend_ = 0; // end of valid input in rbuf_
  std::deque<frame_ptr> queue_;
  size_t in_flight_ = 0; // frames of queue_ being written
  bool flush_scheduled_ = false; // a write waits for the batch's end
  bool reading_ = false;
  bool paused_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool reject_empty_ = false;
  std::string remote_addr_;
  uint16_t remote_port_ = 0;
};

} // namespace broker::net
