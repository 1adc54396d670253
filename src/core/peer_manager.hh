#pragma once

// Connections to peers: listening, dialling and retrying, the handshake,
// and how each connection ends (BYE, drop, loss, timeouts). Peered
// connections go to the router, which routes their frames. Owned by the
// I/O thread.

#include "broker/configuration.hh"
#include "broker/endpoint_id.hh"
#include "broker/expected.hh"
#include "broker/peer_info.hh"
#include "core/connection.hh"
#include "core/connectors.hh"
#include "core/router.hh"
#include "core/statuses.hh"
#include "format/bin/handshake.hh"
#include "net/loop.hh"
#include "net/tcp.hh"
#include "net/tls.hh"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace broker::detail {

class peer_manager final : public connection_owner {
public:
  peer_manager(const configuration& cfg, const endpoint_id& id,
               net::loop& loop, net::tls_context_ptr tls, statuses& st,
               router& r);
  ~peer_manager() override;

  /// Listens on `address`:`port` (port 0 picks one).
  expected<uint16_t> listen(const std::string& address, uint16_t port);

  /// Starts peering; `done` gets the first outcome (true once peered,
  /// false when the first attempt definitely failed). With retry > 0
  /// failed and lost connections are retried until unpeer().
  void peer(const std::string& address, uint16_t port, double retry,
            std::function<void(bool)> done);

  /// Ends a peering (graceful BYE) and stops its retries; `done(false)`
  /// when there was none.
  void unpeer(const std::string& address, uint16_t port,
              std::function<void(bool)> done);

  std::vector<peer_info> peers() const;

  /// Stops listening and dialling, says BYE to every peer, and calls
  /// `done` once all answered (or bye_timeout passed) and every socket
  /// wrote out its queue and closed (at most 2 s more).
  void shutdown(std::function<void()> done);

  /// Closes what is left without waiting (after the loop stopped).
  void clear();

  // -- connection_owner ----------------------------------------------------------
  void drop(connection& c, ec code, const std::string& why) override;
  void disconnect(connection& c, const std::string& why) override;
  void on_pong(connection& c, std::span<const std::byte> payload) override;

private:
  struct link;

  timespan handshake_timeout() const;
  void on_arrival(const std::shared_ptr<net::stream>& s);
  void on_accept(expected<std::shared_ptr<net::stream>> s);
  void start_connection(std::shared_ptr<net::stream> s, handshake::role r,
                        connector* origin);
  handshake::context make_context(connection& c);
  bool is_redundant(const endpoint_id& peer, bool include_pending,
                    const connection* self) const;
  void send_handshake(connection& c,
                      const std::vector<format::bin::handshake_msg>& msgs);
  void connect(connector& c);
  void retry_later(connector& c, timespan delay);
  void on_connect_failed(connector& c, const error& err);
  void handle_frame(connection& c, std::span<const std::byte> payload);
  void handle_handshake_frame(connection& c,
                              std::span<const std::byte> payload);
  void adopt_peering(connector& origin, const endpoint_id& peer);
  void on_peered(connection& c);
  void handle_closed(connection& c, const error& reason);
  void on_connection_gone(connection& c, const error& reason);
  void remove_connection(connection& c);
  /// Ends a connection that did not (or need not) peer, without a status;
  /// returns the connector that dialled it, now detached from it.
  connector* discard(connection& c);
  void send_bye(connection& c);
  void finish_shutdown();
  void await_flushed(std::chrono::steady_clock::time_point deadline);

  const configuration& cfg_;
  endpoint_id id_;
  net::loop& loop_;
  net::tls_context_ptr tls_; // null with disable_ssl
  statuses& statuses_;
  router& router_;

  std::vector<std::shared_ptr<net::listener>> listeners_;
  std::set<std::shared_ptr<link>> links_;
  closing_streams closing_;
  connector_set connectors_;
  pending_streams pending_;
  uint64_t bye_counter_ = 0;
  bool shutting_down_ = false;
  std::function<void()> on_shutdown_done_;
};

} // namespace broker::detail
