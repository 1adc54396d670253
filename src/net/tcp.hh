#pragma once

// Listening for and opening TCP connections (IPv4 and IPv6), producing
// framed streams. With a TLS context, the TLS handshake runs before a
// stream is handed out. Callbacks run on the loop's I/O thread.

#include "broker/expected.hh"
#include "net/loop.hh"
#include "net/stream.hh"
#include "net/tls.hh"

#include <functional>
#include <memory>
#include <string>

namespace broker::net {

/// Accepts connections until closed.
class listener {
public:
  /// Gets each accepted stream, or the error of a connection that failed
  /// its TLS handshake.
  using accept_fn = std::function<void(expected<std::shared_ptr<stream>>)>;

  /// Gets each connection as soon as it is accepted, before any TLS
  /// handshake (for bounding how many may be in their handshake).
  using arrival_fn = std::function<void(const std::shared_ptr<stream>&)>;

  ~listener();

  /// Binds and listens on `address` ("" = all interfaces, IPv4 and IPv6)
  /// and `port` (0 = pick a free port). With `tls`, accepted connections
  /// must finish a TLS handshake within `tls_timeout`. Runs on the I/O
  /// thread.
  static expected<std::shared_ptr<listener>>
  make(loop& owner, const std::string& address, uint16_t port,
       tls_context_ptr tls, timespan tls_timeout, arrival_fn arrived,
       accept_fn f);

  /// The bound port.
  uint16_t port() const noexcept { return port_; }

  /// Stops accepting. Idempotent.
  void close();

private:
  struct impl;
  listener() = default;
  void do_accept();
  void admit(std::shared_ptr<stream> s);

  std::unique_ptr<impl> impl_;
  accept_fn on_accept_;
  arrival_fn on_arrival_;
  tls_context_ptr tls_;
  timespan tls_timeout_{};
  uint16_t port_ = 0;
  std::weak_ptr<listener> self_;
};

/// Resolves `host` and connects to `port` (then runs the TLS handshake as
/// client, with `tls`); calls `f` with the stream or an error
/// (ec::peer_unavailable, or ec::peer_timeout for a stalled TLS
/// handshake). Runs on the I/O thread.
void connect(loop& owner, const std::string& host, uint16_t port,
             tls_context_ptr tls, timespan tls_timeout,
             std::function<void(expected<std::shared_ptr<stream>>)> f);

} // namespace broker::net
