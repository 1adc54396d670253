#pragma once

/// Endpoint options, named as in real Broker (broker::broker_options).

#include <cstddef>
#include <cstdint>
#include <string>

namespace broker {

/// What a peer's full outbound buffer does with one more message.
enum class overflow_policy : uint8_t {
  /// Close the connection to the slow peer (real Broker's default).
  disconnect,
  /// Drop the oldest queued message (Zeek's setting).
  drop_oldest,
  /// Drop the new message.
  drop_newest,
};

struct broker_options {
  /// Relay messages between peers (real Broker's default; Zeek disables).
  bool forward = true;
  /// TTL written into published messages.
  uint16_t ttl = 16;
  /// Plain TCP instead of TLS (TLS is the default, as in real Broker).
  bool disable_ssl = false;
  /// Do not read broker.conf. We never read one: with false (real
  /// Broker's default), an endpoint refuses to start when a broker.conf
  /// exists in the working directory, instead of ignoring it silently.
  bool ignore_broker_conf = false;
  /// Use the wall clock. Simulated time (false) is not supported.
  bool use_real_time = true;
  /// Messages buffered per peer before the overflow policy applies.
  size_t peer_buffer_size = 2048;
  overflow_policy peer_overflow_policy = overflow_policy::disconnect;
  /// What a local subscriber whose queue (qsize) stays full gets
  /// (docs/decisions/0007-flow-control.md; ours: real Broker has no such
  /// setting). disconnect closes the subscriber.
  overflow_policy subscriber_overflow_policy = overflow_policy::drop_oldest;
  /// How long a local publisher waits while every peer its message goes to
  /// has a full buffer, before their overflow policy applies, in seconds
  /// (ours; real Broker never makes a publisher wait).
  double publish_stall_timeout = 10.0;
  /// How long a peer's buffer may stay full while other peers of the same
  /// message have room, before its overflow policy applies, in seconds: a
  /// fast consumer's buffer is full for moments too.
  double peer_full_grace = 0.1;
  /// How long unpeer/shutdown wait for the BYE pong, in seconds.
  double bye_timeout = 3.0;
  /// How long a new connection may take for its TLS and Broker handshakes
  /// before it is dropped, in seconds (real Broker has no such bound).
  double handshake_timeout = 10.0;
  /// How many accepted connections may be in their TLS or Broker handshake
  /// at once; beyond it the oldest is dropped (ours; bounds what silent or
  /// half-open connections can take).
  size_t max_pending_connections = 1024;
  /// Messages buffered per WebSocket client before
  /// web_socket_overflow_policy applies (real Broker's option and default).
  size_t web_socket_buffer_size = 512;
  overflow_policy web_socket_overflow_policy = overflow_policy::disconnect;
  /// Largest message a WebSocket client may send, in bytes; a larger one
  /// closes its connection with 1009 (ours, websocket-api.md §1.4).
  size_t web_socket_max_message_size = 16 * 1024 * 1024;
  /// Seconds between our PINGs to WebSocket peers; an unanswered PING
  /// closes the connection with 1011 when the next is due. <= 0: no PINGs
  /// (ours, websocket-api.md §1.5).
  double web_socket_ping_interval = 5.0;
  /// WebSocket clients served at once; further connections are refused
  /// (ours, websocket-api.md §1.1).
  size_t web_socket_max_clients = 100;
  /// Messages local publishers may queue for the I/O thread before
  /// publish() blocks (ours; Publisher.capacity()).
  size_t publish_queue_size = 8192;
  /// Events each status subscriber buffers; beyond it the oldest is dropped
  /// (ours).
  size_t status_queue_size = 4096;
};

/// Endpoint configuration: options plus TLS settings. Setting any of the
/// files turns on certificate authentication (see src/net/tls.hh).
struct configuration {
  broker_options options;
  std::string certificate_file;
  std::string key_file;
  std::string ca_file;
  std::string ca_path;
  std::string passphrase;
};

} // namespace broker
