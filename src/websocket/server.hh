#pragma once

// The WebSocket JSON API server of an endpoint (websocket-api.md): its
// listeners (web_socket_listen) and the sessions of their clients. Each
// client takes part in pub/sub as a core participant (docs/decisions/
// 0008-websocket.md). Public member functions are thread-safe; the rest
// runs on the core's I/O thread.

#include "broker/expected.hh"
#include "core/core.hh"
#include "net/ws_listener.hh"
#include "websocket/server_session.hh"

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace broker::websocket {

class server : public std::enable_shared_from_this<server> {
public:
  explicit server(std::shared_ptr<detail::core> core);

  /// Listens for WebSocket clients; TLS unless the endpoint disables it,
  /// with the settings of native peering (§1.3). `events_only` passes
  /// only Zeek events to clients (§5.1). Blocks briefly.
  /// @returns the bound port.
  expected<uint16_t> listen(const std::string& address, uint16_t port,
                            bool events_only);

  /// Stops listening and closes every client with 1001 "Terminating";
  /// waits (briefly) until the Close frames are out. Idempotent. Must run
  /// before the core shuts down.
  void shutdown();

  // -- for sessions (I/O thread) ----------------------------------------------------

  detail::core& core() noexcept { return *core_; }

  /// The shared JSON encoding of `msg` (one encoding per message however
  /// many clients get it).
  std::shared_ptr<const std::string> encode(const detail::data_message_ptr& msg);

  void remove(const std::shared_ptr<server_session>& s);

  const std::string& version() const noexcept { return version_; }

private:
  void accept(net::ws_stream_ptr s, bool events_only);

  std::shared_ptr<detail::core> core_;
  std::string version_;
  // I/O thread only.
  std::vector<std::shared_ptr<net::ws_listener>> listeners_;
  std::set<std::shared_ptr<server_session>> sessions_;
  std::vector<std::shared_ptr<server_session>> closing_; // by shutdown()
  // Left the core, but their Close handshake or TCP is still going: the
  // shutdown waits for (or aborts) them too.
  std::vector<std::shared_ptr<server_session>> draining_;
  detail::data_message_ptr last_msg_;
  std::shared_ptr<const std::string> last_json_;
  bool stopping_ = false;
};

} // namespace broker::websocket
