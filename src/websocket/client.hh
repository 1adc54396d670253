#pragma once

// Our endpoint as a client of a WebSocket JSON API server (Zeek, or another
// endpoint's web_socket_listen): web_socket_peer(url). The connection is a
// core participant that advertises nothing to our peers; it sends the
// server everything local code publishes, subscribes on the server to our
// local subscribers' topics, and routes what the server sends like traffic
// from a peer (to local subscribers, participants and native peers).
//
// The protocol fixes a connection's topics at its handshake, so when our
// local subscriptions change the client opens a second connection with the
// new topics and switches over once it is acknowledged
// (docs/decisions/0008-websocket.md has what that can and cannot
// guarantee). Failed and lost connections are retried every `retry`
// seconds until unpeer. Public member functions are thread-safe; the rest
// runs on the core's I/O thread.

#include "broker/endpoint_info.hh"
#include "core/core.hh"
#include "net/ws_connector.hh"
#include "websocket/drop_episode.hh"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace broker::websocket {

class client : public std::enable_shared_from_this<client> {
public:
  /// @param url ws://host:port/path or wss://..., parsed already.
  client(std::shared_ptr<detail::core> core, std::string url,
         net::ws_url parsed, double retry);

  ~client();

  /// Connects; `done` runs on the I/O thread with the first outcome (true
  /// once the server acknowledged, false when the first attempt failed).
  void start(std::function<void(bool)> done);

  /// Flushes what is queued for the server (bounded by the handshake
  /// timeout), closes with 1000, stops retrying and leaves the core.
  /// `done` runs on the I/O thread once that is under way. Idempotent.
  void stop(bool report, std::function<void()> done);

  /// Whether stop() ran and the connections are gone.
  bool finished() const noexcept;

  /// Closes every connection's socket now, without a closing handshake:
  /// for a shutdown whose grace period is over.
  void abort();

  const std::string& url() const noexcept { return url_; }

private:
  struct link;

  void connect();
  void on_connected(const std::shared_ptr<link>& l,
                    expected<net::ws_stream_ptr> s);
  void on_link_message(link& l, std::string_view text);
  void on_link_closed(link& l, uint16_t code, const std::string& why);
  void on_link_written(link& l);
  void on_acked(const std::shared_ptr<link>& l, const std::string& endpoint);
  void on_attempt_failed(const std::string& why);
  void schedule_retry();
  void renew_if_needed();
  void on_local_publish(const detail::data_message_ptr& msg);
  void send(const std::shared_ptr<const std::string>& json);
  void retire(const std::shared_ptr<link>& l);
  void resolve_waiters(bool ok);

  std::shared_ptr<detail::core> core_;
  std::string url_;
  net::ws_url parsed_;
  double retry_;
  net::tls_context_ptr tls_;
  std::optional<detail::participant_id> participant_;
  endpoint_info info_;
  // I/O thread only.
  std::shared_ptr<link> current_; // acknowledged, carries our traffic
  std::shared_ptr<link> next_;    // connecting or awaiting its ack
  std::vector<std::shared_ptr<link>> retiring_; // draining, then closed
  std::vector<std::string> local_topics_;
  std::deque<std::shared_ptr<const std::string>> pending_; // while no link
  std::vector<std::function<void(bool)>> waiters_;
  uint64_t retry_timer_ = 0;
  bool connected_once_ = false;
  /// Publications are being dropped (reported once); a new connection
  /// ends the episode too.
  drop_episode dropping_;
  bool stopped_ = false;
};

} // namespace broker::websocket
