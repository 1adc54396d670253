#pragma once

// Listening for and opening TCP connections (IPv4 and IPv6), producing
// framed streams. Callbacks run on the loop's I/O thread.

#include "broker/expected.hh"
#include "net/loop.hh"
#include "net/stream.hh"

#include <functional>
#include <memory>
#include <string>

namespace broker::net {

/// Accepts connections until closed.
class listener {
public:
  using accept_fn = std::function<void(std::shared_ptr<stream>)>;

  ~listener();

  /// Binds and listens on `address` ("" = all interfaces, IPv4 and IPv6)
  /// and `port` (0 = pick a free port). Runs on the I/O thread.
  static expected<std::shared_ptr<listener>>
  make(loop& owner, const std::string& address, uint16_t port, accept_fn f);

  /// The bound port.
  uint16_t port() const noexcept { return port_; }

  /// Stops accepting. Idempotent.
  void close();

private:
  struct impl;
  listener() = default;
  void do_accept();

  std::unique_ptr<impl> impl_;
  accept_fn on_accept_;
  uint16_t port_ = 0;
  std::weak_ptr<listener> self_;
};

/// Resolves `host` and connects to `port`; calls `f` with the stream or an
/// error (ec::peer_unavailable). Runs on the I/O thread.
void connect(loop& owner, const std::string& host, uint16_t port,
             std::function<void(expected<std::shared_ptr<stream>>)> f);

} // namespace broker::net
