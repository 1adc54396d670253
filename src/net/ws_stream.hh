#pragma once

// One WebSocket connection (RFC 6455), server or client side, plain or
// over TLS: Boost.Beast does the framing, masking and control frames; this
// class adds what the JSON API needs on top (websocket-api.md §1.4-§1.6):
// a queue of outbound text messages with exactly one write in flight, our
// own PINGs with a PONG deadline, a size limit on inbound messages, and a
// closing handshake that discards what is still queued so that a client
// waiting for our Close is never stuck behind its own backlog.
//
// The listener and connector (ws_listener.hh, ws_connector.hh) create these
// once the HTTP upgrade is done. All member functions run on the loop's
// I/O thread. This header hides Beast and Asio from the layers above.

#include "broker/time.hh"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace broker::net {

/// Settings of a WebSocket connection.
struct ws_settings {
  /// Inbound messages above this size close the connection with 1009.
  size_t max_message_size = 16 * 1024 * 1024;
  /// How often we PING; a PING still unanswered when the next is due closes
  /// the connection with 1011 "Ping timeout". Zero or less: no PINGs.
  timespan ping_interval = std::chrono::seconds{5};
  /// Bound on the TLS handshake, the HTTP upgrade and the closing
  /// handshake.
  timespan handshake_timeout = std::chrono::seconds{10};
};

/// Status codes of Close frames that we send (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr uint16_t normal = 1000;
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t policy_error = 1008;
inline constexpr uint16_t too_big = 1009;
inline constexpr uint16_t internal_error = 1011;
} // namespace close_code

using ws_message_ptr = std::shared_ptr<const std::string>;

class ws_stream {
public:
  /// Receives events; runs on the I/O thread.
  struct handler {
    virtual ~handler() = default;
    /// One complete inbound message (text, or binary treated as text,
    /// §1.4). Valid during the call.
    virtual void on_message(std::string_view text) = 0;
    /// The connection ended: the peer closed it (`code` is its Close code,
    /// 1005 when the frame had none, 1006 for a TCP drop), a protocol
    /// violation or size limit closed it, or the ping deadline passed.
    /// `why` describes it. Called once, never after close()/abort().
    virtual void on_closed(uint16_t code, const std::string& why) = 0;
    /// A write completed, so queued() shrank.
    virtual void on_written() {}
  };

  virtual ~ws_stream() = default;

  /// Starts reading and pinging. `h` must outlive the stream or call
  /// close()/abort().
  virtual void start(handler* h) = 0;

  /// Queues a text message.
  virtual void send(ws_message_ptr text) = 0;

  /// Stops delivering messages (and so reading: TCP holds the peer back)
  /// until resume_reading(). Callable from on_message.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;

  /// Messages queued or in flight.
  virtual size_t queued() const noexcept = 0;

  /// Drops the oldest queued message that is not in flight.
  /// @returns false if none.
  virtual bool drop_oldest_queued() = 0;

  /// Discards queued messages (the one in flight completes), sends Close
  /// with `code` and `reason` and finishes the closing handshake in the
  /// background, bounded by the handshake timeout. No more callbacks.
  /// Idempotent.
  virtual void close(uint16_t code, std::string reason) = 0;

  /// Drops the TCP connection at once. No more callbacks. Idempotent.
  virtual void abort() = 0;

  /// Whether the connection is closing or gone.
  virtual bool closed() const noexcept = 0;

  /// Whether the TCP connection is gone (the closing handshake ended).
  virtual bool finished() const noexcept = 0;

  /// Whether the connection runs over TLS.
  virtual bool secure() const noexcept = 0;

  const std::string& remote_address() const noexcept { return remote_addr_; }
  uint16_t remote_port() const noexcept { return remote_port_; }

  /// Server side: the request target of the upgrade, as sent.
  const std::string& target() const noexcept { return target_; }

  /// Server side: the X-Application-Name header, if the client sent one.
  bool has_app_name() const noexcept { return has_app_name_; }
  const std::string& app_name() const noexcept { return app_name_; }

protected:
  std::string remote_addr_;
  uint16_t remote_port_ = 0;
  std::string target_;
  bool has_app_name_ = false;
  std::string app_name_;
};

using ws_stream_ptr = std::shared_ptr<ws_stream>;

} // namespace broker::net
