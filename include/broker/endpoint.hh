#pragma once

/// The public C++ API of an endpoint: peering, publishing, subscribing.
///
/// An endpoint runs one I/O thread that owns its sockets and routing state.
/// Every member function is thread-safe; those that block say so in their
/// name or documentation and never hold any lock the I/O thread needs.

#include "broker/configuration.hh"
#include "broker/data.hh"
#include "broker/endpoint_id.hh"
#include "broker/endpoint_info.hh"
#include "broker/expected.hh"
#include "broker/message.hh"
#include "broker/peer_info.hh"
#include "broker/status.hh"
#include "broker/store.hh"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace broker {

namespace websocket {
class server;
class client;
} // namespace websocket

namespace detail {
class core;
class store_registry;
template <class T>
class bounded_queue;
} // namespace detail

/// Receives data messages for a set of topic prefixes.
/// @note Thread-safe. Waiting functions block the caller only.
class subscriber {
public:
  using clock = std::chrono::steady_clock;
  using message_ptr = std::shared_ptr<const data_message>;

  ~subscriber();

  /// Waits until a message is available or `deadline` passed.
  /// @returns whether a message is available.
  bool wait_until(clock::time_point deadline);

  /// Takes up to `max` messages without waiting.
  std::vector<message_ptr> poll(size_t max = SIZE_MAX);

  /// Takes one message without waiting; nullptr when none waits.
  message_ptr poll_one();

  /// Puts messages taken by poll() back at the front, in their order: for
  /// a consumer that could hand out only part of a batch.
  void unpoll(std::vector<message_ptr> msgs);

  /// Messages waiting.
  size_t available() const;

  /// Readable exactly while messages wait.
  int fd();

  /// Changes the subscription. With `block`, returns once it is in effect.
  void add_topic(std::string topic, bool block = false);
  void remove_topic(std::string topic, bool block = false);

  /// Unsubscribes; later messages are not received.
  void reset();

  /// The queue capacity (qsize).
  size_t capacity() const;

private:
  friend class endpoint;
  using queue_type = detail::bounded_queue<message_ptr>;
  subscriber(std::shared_ptr<detail::core> core,
             std::shared_ptr<queue_type> queue);
  std::shared_ptr<detail::core> core_;
  std::shared_ptr<queue_type> queue_;
};

/// Receives status and error events.
class status_subscriber {
public:
  using clock = std::chrono::steady_clock;

  ~status_subscriber();

  bool wait_until(clock::time_point deadline);
  std::vector<status_event> poll(size_t max = SIZE_MAX);
  size_t available() const;
  int fd();
  void reset();

private:
  friend class endpoint;
  using queue_type = detail::bounded_queue<status_event>;
  status_subscriber(std::shared_ptr<detail::core> core,
                    std::shared_ptr<queue_type> queue);
  std::shared_ptr<detail::core> core_;
  std::shared_ptr<queue_type> queue_;
};

class endpoint {
public:
  using clock = std::chrono::steady_clock;

  explicit endpoint(configuration cfg = {});

  /// Calls shutdown().
  ~endpoint();

  endpoint(const endpoint&) = delete;
  endpoint& operator=(const endpoint&) = delete;

  /// @returns this endpoint's id.
  endpoint_id node_id() const;

  // -- peering -------------------------------------------------------------

  /// Listens for peers. `port` 0 picks a free port.
  /// @returns the port, or an error.
  expected<uint16_t> listen(const std::string& address = "",
                            uint16_t port = 0);

  /// Peers with a remote endpoint. Blocks until peered (true) or the first
  /// attempt definitely failed (false); with `retry` > 0 seconds, failed or
  /// lost connections are retried in the background until unpeer().
  bool peer(const std::string& address, uint16_t port, double retry = 10.0);

  /// Like peer() but returns at once; the outcome arrives as a status.
  void peer_nosync(const std::string& address, uint16_t port,
                   double retry = 10.0);

  /// Ends a peering started with peer() (graceful BYE), stopping retries.
  /// Blocks until done. @returns whether there was such a peering.
  bool unpeer(const std::string& address, uint16_t port);

  /// Like unpeer() but returns at once.
  void unpeer_nosync(const std::string& address, uint16_t port);

  std::vector<peer_info> peers() const;

  /// The topics direct peers subscribe to.
  std::vector<std::string> peer_subscriptions() const;

  /// Blocks until peered with `node` or `deadline`. @returns whether peered.
  bool await_peer(const endpoint_id& node, clock::time_point deadline);

  /// Relays `topics` between peers without subscribing to them.
  void forward(std::vector<std::string> topics);

  // -- WebSocket JSON API (websocket-api.md) -------------------------------------

  /// Serves the WebSocket JSON API on `address`:`port` (port 0 picks a free
  /// one), path /v1/messages/json; TLS (wss://) unless disable_ssl, with
  /// the settings of native peering. With `events_only`, clients receive
  /// only Zeek events. @returns the bound port, or an error.
  expected<uint16_t> web_socket_listen(const std::string& address = "",
                                       uint16_t port = 0,
                                       bool events_only = false);

  /// Connects to a WebSocket JSON API server (`ws://host:port/path` or
  /// `wss://...`, TLS with this endpoint's settings) as a client: local
  /// publications go to the server, and the server's messages on our local
  /// subscribers' topics come back to them. Blocks until the server
  /// acknowledged (true) or the first attempt failed (false); with `retry`
  /// > 0 seconds, failed or lost connections are retried until
  /// web_socket_unpeer(). A URL already connected returns true.
  bool web_socket_peer(const std::string& url, double retry = 10.0);

  /// Ends a connection made by web_socket_peer (what is queued for the
  /// server goes out first). @returns whether there was one.
  bool web_socket_unpeer(const std::string& url);

  // -- publishing -----------------------------------------------------------

  /// Publishes `value` on `topic` to all peers subscribed to it, or only to
  /// `receiver` when given. May block while peers apply backpressure.
  /// @returns false when the endpoint is shut down.
  bool publish(const std::string& topic, const data& value,
               const endpoint_id& receiver = {});

  /// Publishes several messages at once.
  bool publish(std::vector<data_message> msgs);

  /// Messages published but not yet handed to peers.
  size_t buffered() const;

  /// Capacity of the publish queue.
  size_t capacity() const;

  /// Readable while publish() would not block.
  int publish_fd() const;

  // -- subscribing -----------------------------------------------------------

  std::unique_ptr<subscriber> make_subscriber(std::vector<std::string> topics,
                                              size_t max_qsize = 20);

  std::unique_ptr<status_subscriber>
  make_status_subscriber(bool receive_statuses = false);

  // -- data stores ------------------------------------------------------------

  /// Options of a store backend, e.g. {"path": "/tmp/s.sqlite"}.
  using backend_options = std::unordered_map<std::string, data>;

  /// Attaches the master of store `name`. When this endpoint already has
  /// it, returns another handle of that master (as real Broker does).
  /// @returns ec::master_exists when another endpoint already has a master
  /// of that name; backend errors (e.g. ec::cannot_open_file).
  expected<std::unique_ptr<store>>
  attach_master(const std::string& name, backend_type type,
                const backend_options& opts = {});

  /// Attaches a clone of store `name`; it finds the master across peerings
  /// and keeps retrying every `resync_interval` seconds until it does.
  std::unique_ptr<store> attach_clone(const std::string& name,
                                      double resync_interval = 1.0,
                                      double stale_interval = -1.0,
                                      double mutation_buffer_interval = 120.0);

  // -- lifetime ---------------------------------------------------------------

  /// Stops the stores attached here (their handles then fail with
  /// ec::shutting_down), says BYE to peers, flushes pending messages, stops
  /// the I/O thread. Idempotent. Blocks (at most the configured BYE timeout
  /// plus what stores need to finish queued writes).
  void shutdown();

  /// @returns whether shutdown() ran.
  bool is_shut_down() const;

  const configuration& config() const;

private:
  void start_web_socket_from_env();
  void shutdown_web_socket();
  /// Stops `c` on the I/O thread and keeps it in ws_stopping_ until its
  /// connections are gone.
  void stop_web_socket_client(std::shared_ptr<websocket::client> c,
                              bool report);

  std::shared_ptr<detail::core> core_;
  // The WebSocket server (made by the first web_socket_listen) and client
  // connections, by URL.
  std::mutex ws_mtx_;
  std::shared_ptr<websocket::server> ws_server_;
  std::map<std::string, std::shared_ptr<websocket::client>> ws_clients_;
  // Stopped (unpeered, or failed for good) while their Close may still be
  // under way: the shutdown waits for (or aborts) them too.
  std::vector<std::shared_ptr<websocket::client>> ws_stopping_;
  // The masters and clones attached here.
  std::shared_ptr<detail::store_registry> stores_;
};

} // namespace broker
