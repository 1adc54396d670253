#pragma once

// Opening a WebSocket connection to a ws:// or wss:// URL: resolve,
// connect, TLS handshake (with SNI) for wss://, then the HTTP upgrade.
// Runs on the loop's I/O thread.

#include "broker/expected.hh"
#include "net/loop.hh"
#include "net/tls.hh"
#include "net/ws_stream.hh"

#include <functional>
#include <string>

namespace broker::net {

/// The parts of a ws:// or wss:// URL.
struct ws_url {
  bool secure = false;
  std::string host; // without brackets for IPv6 literals
  uint16_t port = 0;
  std::string target; // path and query, "/" at least
};

/// Parses `ws://host[:port][/path]` or `wss://...`; the default ports are
/// 80 and 443. @returns ec::invalid_data for anything else.
expected<ws_url> parse_ws_url(const std::string& url);

/// Connects to `url`; `tls` is needed for wss://. `f` gets the upgraded
/// connection or an error (ec::peer_unavailable, ec::peer_timeout).
void ws_connect(loop& owner, const ws_url& url, tls_context_ptr tls,
                ws_settings settings,
                std::function<void(expected<ws_stream_ptr>)> f);

} // namespace broker::net
