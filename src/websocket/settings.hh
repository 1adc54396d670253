#pragma once

// The WebSocket connection settings of an endpoint's configuration, shared
// by the server and the client side.

#include "broker/configuration.hh"
#include "net/ws_stream.hh"

#include <chrono>

namespace broker::websocket {

inline net::ws_settings settings_of(const configuration& cfg) {
  using std::chrono::duration_cast;
  using fsecs = std::chrono::duration<double>;
  net::ws_settings result;
  auto& opts = cfg.options;
  result.max_message_size = opts.web_socket_max_message_size;
  result.ping_interval
    = opts.web_socket_ping_interval > 0
        ? duration_cast<timespan>(fsecs{opts.web_socket_ping_interval})
        : timespan{0};
  result.handshake_timeout
    = duration_cast<timespan>(fsecs{opts.handshake_timeout});
  return result;
}

} // namespace broker::websocket
