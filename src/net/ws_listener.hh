#pragma once

// Accepting WebSocket connections: TCP accept, the TLS handshake when a
// context is given, then the HTTP upgrade (websocket-api.md §1.2), all
// within the handshake timeout. The upgrade is completed for any request
// target so that the session above can explain a wrong path in-band;
// permessage-deflate and subprotocols are never negotiated. Callbacks run
// on the loop's I/O thread.

#include "broker/expected.hh"
#include "net/loop.hh"
#include "net/tls.hh"
#include "net/ws_stream.hh"

#include <functional>
#include <memory>
#include <string>

namespace broker::net {

class ws_listener : public std::enable_shared_from_this<ws_listener> {
public:
  /// Gets each upgraded connection.
  using accept_fn = std::function<void(ws_stream_ptr)>;

  /// Asked for each TCP connection before its handshakes: whether to take
  /// it (false closes it at once: a cap on clients, §1.1).
  using admit_fn = std::function<bool()>;

  ~ws_listener();

  /// Binds and listens on `address` ("" = all interfaces, IPv4 and IPv6)
  /// and `port` (0 = pick a free port). With `tls`, clients speak wss://.
  static expected<std::shared_ptr<ws_listener>>
  make(loop& owner, const std::string& address, uint16_t port,
       tls_context_ptr tls, ws_settings settings, admit_fn admit,
       accept_fn accept);

  uint16_t port() const noexcept { return port_; }

  /// Stops accepting. Idempotent.
  void close();

private:
  struct impl;
  ws_listener();
  void do_accept();

  std::unique_ptr<impl> impl_;
  uint16_t port_ = 0;
};

} // namespace broker::net
