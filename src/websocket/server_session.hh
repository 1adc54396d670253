#pragma once

// One client of our WebSocket JSON API server (websocket-api.md §2-§5):
// waits for the subscription message, joins the core as a participant
// with those topics, acknowledges, then turns the client's data messages
// into publications and the endpoint's matching traffic into data
// messages. Bad input gets the in-band error of §5.2 and the session goes
// on; a bad handshake gets its error and Close 1008. Runs on the I/O
// thread; the server owns it.

#include "broker/endpoint_info.hh"
#include "core/participant.hh"
#include "core/publish_queue.hh"
#include "net/ws_stream.hh"
#include "websocket/drop_episode.hh"

#include <memory>
#include <optional>
#include <string>

namespace broker::websocket {

class server;

class server_session : public net::ws_stream::handler,
                       public std::enable_shared_from_this<server_session> {
public:
  server_session(server& owner, net::ws_stream_ptr stream, bool events_only);

  ~server_session() override;

  /// Checks the upgrade request (§1.2) and starts reading.
  void start();

  /// A matching message (the participant's on_data hook). `json` is its
  /// encoding, shared among clients.
  void deliver(const std::shared_ptr<const std::string>& json);

  /// Closes with `code`, leaves the core. Idempotent.
  void close(uint16_t code, std::string reason);

  /// Whether the value may go to this client (events_only, §5.1).
  bool wants(const data& value) const;

  /// The connection's TCP state (for a shutdown that waits for Close
  /// frames to go out).
  bool finished() const noexcept { return stream_->finished(); }

  /// Closes the socket now, without a closing handshake (shutdown's grace
  /// period is over). Only after close(): it silences the stream, so a
  /// live session would never leave the core.
  void abort() { stream_->abort(); }

  // net::ws_stream::handler
  void on_message(std::string_view text) override;
  void on_closed(uint16_t code, const std::string& why) override;
  void on_written() override;

private:
  void on_subscription(std::string_view text);
  void on_data_message(std::string_view text);
  void route_pending();
  /// Reads from the client unless something holds it back.
  void update_reading();
  void send_error(std::string_view code, std::string_view context);
  void leave(bool lost, const std::string& why);
  /// "WebSocket client "name" at address:port", for status messages.
  std::string describe() const;

  server& owner_;
  net::ws_stream_ptr stream_;
  bool events_only_;
  /// Who the client is on the status subscriber: a fresh id per connection
  /// (never on the wire) plus its address (§2.6).
  endpoint_info info_;
  std::optional<detail::participant_id> participant_;
  uint64_t subscription_timer_ = 0;
  /// A message that waits for room at a peer; reading is paused meanwhile.
  std::optional<detail::outgoing_message> pending_;
  // Why we do not read from the client: the pending message waits for
  // room at a native peer; a local subscriber it filled is full.
  bool held_by_peer_ = false;
  bool held_by_subscriber_ = false;
  bool done_ = false;
  /// Messages for the client are being dropped (reported once).
  drop_episode dropping_;
  bool overflowed_ = false; // closing for overflow, right after this delivery
};

} // namespace broker::websocket
