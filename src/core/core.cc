#include "core/core.hh"

#include "format/bin/envelope.hh"
#include "format/bin/handshake.hh"
#include "format/bin/value_codec.hh"

#include <cstring>
#include <filesystem>
#include <future>

namespace broker::detail {

namespace bin = format::bin;
using namespace std::chrono_literals;

// -- helpers -----------------------------------------------------------------------

net::frame_ptr make_data_frame(const endpoint_id& sender,
                               const endpoint_id& receiver, uint16_t ttl,
                               std::string_view topic, const data& value) {
  auto buf = std::make_shared<std::vector<std::byte>>();
  buf->reserve(64 + topic.size());
  bin::write_envelope_frame(*buf, sender, receiver, bin::msg_type::data, ttl,
                            topic, {});
  bin::encode(value, *buf);
  // Patch the frame length now that the payload is in place.
  auto len = static_cast<uint32_t>(buf->size() - 4);
  auto be = bin::to_big_endian(len);
  std::memcpy(buf->data(), &be, 4);
  return buf;
}

net::frame_ptr make_command_frame(const endpoint_id& sender,
                                  const endpoint_id& receiver,
                                  std::string_view topic,
                                  std::span<const std::byte> payload) {
  auto buf = std::make_shared<std::vector<std::byte>>();
  bin::write_envelope_frame(*buf, sender, receiver, bin::msg_type::command,
                            bin::default_ttl, topic, payload);
  return buf;
}

namespace {

net::frame_ptr frame_of(const bin::handshake_msg& msg) {
  auto buf = std::make_shared<std::vector<std::byte>>();
  buf->resize(4);
  bin::encode(msg, *buf);
  auto be = bin::to_big_endian(static_cast<uint32_t>(buf->size() - 4));
  std::memcpy(buf->data(), &be, 4);
  return buf;
}

net::frame_ptr envelope_frame(const endpoint_id& sender,
                              const endpoint_id& receiver, bin::msg_type type,
                              std::string_view topic,
                              std::span<const std::byte> payload) {
  auto buf = std::make_shared<std::vector<std::byte>>();
  bin::write_envelope_frame(*buf, sender, receiver, type, bin::default_ttl,
                            topic, payload);
  return buf;
}

std::string key_of(const std::string& address, uint16_t port) {
  return address + "|" + std::to_string(port);
}

constexpr std::string_view bye_prefix = "BYE";

} // namespace

// -- connections and connectors ------------------------------------------------

struct core::connector {
  std::string address;
  uint16_t port = 0;
  double retry = 0;
  net::loop::timer_id timer = 0;
  connection* conn = nullptr;
  std::optional<endpoint_id> peer;
  std::vector<std::function<void(bool)>> waiters;
  bool ever_peered = false;
  bool unpeering = false;
};

struct core::connection : net::stream::handler {
  core* owner = nullptr;
  std::shared_ptr<net::stream> stream;
  handshake hs;
  connector* origin = nullptr; // set for connections we dialled
  bool peered = false;
  bool gone = false;
  filter_type filter; // the peer's subscriptions
  filter_type advertised; // our filter as the peer knows it (grows only)
  bool ours = false; // the peer speaks overlay updates (one of ours)
  std::optional<uint64_t> bye_id;
  net::loop::timer_id bye_timer = 0;
  net::loop::timer_id handshake_timer = 0;
  std::function<void()> after_bye;
  bool removed_by_us = false;
  std::string removal_reason; // for the PeerRemoved status, when not unpeer
  bool dropping = false; // a drop policy is dropping for this peer
  // Since when a local publisher has found this peer's buffer full.
  std::optional<std::chrono::steady_clock::time_point> full_since;

  explicit connection(handshake::role r) : hs(r) {}

  void on_frame(std::span<const std::byte> payload) override {
    owner->handle_frame(*this, payload);
  }

  void on_closed(const error& reason) override {
    owner->handle_closed(*this, reason);
  }

  void on_written() override { owner->on_written(); }
};

// -- construction ----------------------------------------------------------------

core::core(configuration cfg)
  : cfg_(std::move(cfg)), id_(endpoint_id::random()), overlay_(id_) {
  if (!cfg_.options.use_real_time)
    throw std::invalid_argument("use_real_time=false (simulated time) is not "
                                "supported");
  // Real Broker reads ./broker.conf unless told not to; we have no reader
  // for it, so its settings would be ignored: say so instead.
  if (!cfg_.options.ignore_broker_conf && std::filesystem::exists("broker.conf"))
    throw std::invalid_argument(
      "./broker.conf is not supported: move its settings into "
      "broker.Configuration and set BrokerOptions.ignore_broker_conf");
  if (!cfg_.options.disable_ssl) {
    auto ctx = net::tls_context::make(cfg_);
    if (!ctx)
      throw std::invalid_argument(ctx.error().message());
    tls_ = std::move(*ctx);
  }
  pub_flare_.fire();
}

timespan core::handshake_timeout() const {
  return std::chrono::duration_cast<timespan>(
    std::chrono::duration<double>(cfg_.options.handshake_timeout));
}

core::~core() {
  shutdown();
}

void core::start() {
  loop_.start();
}

template <class F>
auto core::run_blocking(F f) {
  using result_type = decltype(f());
  // Shared with the posted work: if a shutdown discards it, nothing it
  // refers to is gone when the loop is finally destroyed.
  auto prom = std::make_shared<std::promise<result_type>>();
  auto fut = prom->get_future();
  auto task = std::make_shared<F>(std::move(f));
  loop_.post([prom, task] {
    if constexpr (std::is_void_v<result_type>) {
      (*task)();
      prom->set_value();
    } else {
      prom->set_value((*task)());
    }
  });
  if constexpr (std::is_void_v<result_type>)
    return await_done(fut);
  else
    return await(fut);
}

// -- status events ------------------------------------------------------------------

void core::emit(status_event ev) {
  bool is_status = std::holds_alternative<status>(ev);
  for (auto& [q, statuses] : status_subs_)
    if (!is_status || statuses)
      q->push_drop_oldest(ev);
}

void core::emit_status(sc code, const endpoint_info& ctx, std::string msg) {
  emit(status{code, ctx, std::move(msg)});
}

void core::emit_error(ec code, const endpoint_info& ctx, std::string msg) {
  emit(error_event{code, ctx, std::move(msg)});
}

endpoint_info core::info_of(const connection& c) const {
  endpoint_info result;
  if (c.hs.peer())
    result.node = *c.hs.peer();
  network_info net;
  if (c.origin) {
    net.address = c.origin->address;
    net.port = c.origin->port;
    net.retry = c.origin->retry;
  } else if (c.stream) {
    net.address = c.stream->remote_address();
    net.port = c.stream->remote_port();
  }
  result.network = net;
  return result;
}

void core::publish_peered_snapshot() {
  // Direct peers and, for await_peer, everyone reachable through them.
  std::set<endpoint_id> ids;
  for (auto& [id, c] : peered_)
    ids.insert(id);
  for (auto& id : overlay_.reachable())
    ids.insert(id);
  {
    std::unique_lock guard{snap_mtx_};
    peered_snapshot_ = std::move(ids);
  }
  snap_cv_.notify_all();
}

// -- listening and connecting --------------------------------------------------------

expected<uint16_t> core::listen(const std::string& address, uint16_t port) {
  if (stopped_)
    return error{ec::shutting_down, "endpoint is shut down"};
  auto result = run_blocking([&]() -> expected<uint16_t> {
    auto l = net::listener::make(
      loop_, address, port, tls_, handshake_timeout(),
      [this](const std::shared_ptr<net::stream>& s) { on_arrival(s); },
      [this](expected<std::shared_ptr<net::stream>> s) {
        on_accept(std::move(s));
      });
    if (!l)
      return l.error();
    auto result = (*l)->port();
    listeners_.push_back(std::move(*l));
    return result;
  });
  if (!result)
    return error{ec::shutting_down, "endpoint is shut down"};
  return std::move(*result);
}

void core::on_arrival(const std::shared_ptr<net::stream>& s) {
  // Forget those that finished (peered or closed), then make room.
  std::erase_if(pending_, [](const std::weak_ptr<net::stream>& w) {
    auto sp = w.lock();
    return !sp || sp->closed();
  });
  pending_.push_back(s);
  while (pending_.size() > cfg_.options.max_pending_connections) {
    auto oldest = pending_.front().lock();
    pending_.pop_front();
    if (!oldest)
      continue;
    auto why = "more than " + std::to_string(cfg_.options.max_pending_connections)
               + " connections in their handshake: dropped the oldest";
    connection* owner = nullptr;
    for (auto& c : connections_)
      if (c->stream == oldest)
        owner = c.get();
    if (owner) {
      drop_connection(*owner, ec::peer_timeout, why);
    } else {
      // Still in its TLS handshake: the core has not seen it yet.
      oldest->abort();
      network_info net{oldest->remote_address(), oldest->remote_port(), 0};
      emit_error(ec::peer_timeout, endpoint_info{{}, net}, why);
    }
  }
}

void core::on_accept(expected<std::shared_ptr<net::stream>> s) {
  if (!s) {
    // A connection that failed its TLS handshake (plain peer, untrusted
    // certificate, garbage, stall): only that connection is gone. One we
    // aborted ourselves (shutdown, too many pending) was reported already.
    if (!shutting_down_ && s.error().code() != ec::shutting_down)
      emit_error(s.error().code(), endpoint_info{}, s.error().message());
    return;
  }
  if (shutting_down_) {
    (*s)->abort();
    return;
  }
  start_connection(std::move(*s), handshake::role::acceptor, nullptr);
}

handshake::context core::make_context(connection& c) {
  handshake::context ctx;
  ctx.self = id_;
  ctx.filter = [this, &c] {
    c.advertised = filter_for(c);
    return c.advertised;
  };
  ctx.redundant = [this, &c](const endpoint_id& peer, bool pending) {
    return is_redundant(peer, pending, &c);
  };
  return ctx;
}

bool core::is_redundant(const endpoint_id& peer, bool include_pending,
                        const connection* self) const {
  if (peered_.count(peer) > 0)
    return true;
  if (!include_pending)
    return false;
  for (auto& c : connections_)
    if (c.get() != self && !c->gone && !c->peered && c->hs.peer()
        && *c->hs.peer() == peer
        && c->hs.current() != handshake::state::failed)
      return true;
  return false;
}

void core::start_connection(std::shared_ptr<net::stream> s, handshake::role r,
                            connector* origin) {
  auto c = std::make_shared<connection>(r);
  c->owner = this;
  c->stream = std::move(s);
  c->origin = origin;
  if (origin)
    origin->conn = c.get();
  c->stream->reject_empty_frames(true);
  connections_.insert(c);
  // A peer that never finishes the handshake must not hold the connection
  // (and its file descriptor) forever.
  std::weak_ptr<connection> weak = c;
  c->handshake_timer = loop_.schedule(handshake_timeout(), [this, weak] {
    auto cp = weak.lock();
    if (!cp || cp->gone || cp->peered)
      return;
    cp->handshake_timer = 0;
    drop_connection(*cp, ec::peer_timeout,
                    "no handshake within "
                      + std::to_string(cfg_.options.handshake_timeout) + " s");
  });
  c->stream->start(c.get());
  auto step = c->hs.start(make_context(*c));
  send_handshake(*c, step.out);
}

void core::send_handshake(connection& c,
                          const std::vector<bin::handshake_msg>& msgs) {
  for (auto& msg : msgs)
    c.stream->write(frame_of(msg));
}

void core::peer(const std::string& address, uint16_t port, double retry,
                std::function<void(bool)> done) {
  loop_.post([this, address, port, retry, done = std::move(done)]() mutable {
    if (shutting_down_) {
      done(false);
      return;
    }
    auto key = key_of(address, port);
    auto i = connectors_.find(key);
    if (i != connectors_.end()) {
      auto& c = *i->second;
      c.retry = retry;
      if ((c.conn && c.conn->peered)
          || (c.peer && peered_.count(*c.peer) > 0)) {
        done(true);
        return;
      }
      c.waiters.push_back(std::move(done));
      return;
    }
    auto c = std::make_unique<connector>();
    c->address = address;
    c->port = port;
    c->retry = retry;
    c->waiters.push_back(std::move(done));
    auto& ref = *c;
    connectors_.emplace(key, std::move(c));
    connect(ref);
  });
}

void core::connect(connector& c) {
  c.timer = 0;
  auto key = key_of(c.address, c.port);
  net::connect(loop_, c.address, c.port, tls_, handshake_timeout(),
               [this, key](expected<std::shared_ptr<net::stream>> s) {
                 auto i = connectors_.find(key);
                 if (i == connectors_.end() || shutting_down_) {
                   if (s)
                     (*s)->abort();
                   return;
                 }
                 auto& c = *i->second;
                 if (!s) {
                   on_connect_failed(c, s.error());
                   return;
                 }
                 start_connection(std::move(*s), handshake::role::connector,
                                  &c);
               });
}

void core::on_connect_failed(connector& c, const error& err) {
  c.conn = nullptr;
  endpoint_info ctx;
  if (c.peer)
    ctx.node = *c.peer;
  ctx.network = network_info{c.address, c.port, c.retry};
  emit_error(err.code() == ec::none ? ec::peer_unavailable : err.code(), ctx,
             err.message());
  auto waiters = std::move(c.waiters);
  c.waiters.clear();
  for (auto& w : waiters)
    w(false);
  if (c.retry > 0 && !shutting_down_ && !c.unpeering) {
    auto key = key_of(c.address, c.port);
    c.timer = loop_.schedule(
      std::chrono::duration_cast<timespan>(
        std::chrono::duration<double>(c.retry)),
      [this, key] {
        if (auto i = connectors_.find(key); i != connectors_.end())
          connect(*i->second);
      });
  } else {
    connectors_.erase(key_of(c.address, c.port));
  }
}

// -- frames -----------------------------------------------------------------------

void core::handle_frame(connection& c, std::span<const std::byte> payload) {
  if (c.gone)
    return;
  if (c.peered)
    handle_envelope(c, payload);
  else
    handle_handshake_frame(c, payload);
}

void core::handle_handshake_frame(connection& c,
                                  std::span<const std::byte> payload) {
  auto msg = bin::decode_handshake(payload);
  if (!msg) {
    auto code = msg.error().code();
    drop_connection(c, code == ec::wrong_magic_number ? code
                                                      : ec::invalid_message,
                    code == ec::wrong_magic_number ? "wrong magic number"
                                                   : msg.error().message());
    return;
  }
  auto step = c.hs.handle(make_context(c), *msg);
  send_handshake(c, step.out);
  if (step.failure) {
    auto err = *step.failure;
    // A peer refusing a second connection while we are peered with it (or
    // while another handshake with it is under way) is the
    // redundant-connection protocol working, not a failure to report.
    bool redundant_code = err.code() == ec::redundant_connection
                          || err.code() == ec::logic_error;
    auto peer_id = c.hs.peer();
    bool benign = redundant_code && peer_id && peered_.count(*peer_id) > 0;
    bool racing = redundant_code && peer_id && !benign
                  && is_redundant(*peer_id, true, &c);
    auto info = info_of(c);
    auto* origin = c.origin;
    c.gone = true;
    c.stream->close();
    remove_connection(c);
    if (origin) {
      origin->conn = nullptr;
      if (benign) {
        adopt_peering(*origin, *peer_id);
        return;
      }
      if (racing) {
        // Both sides dialled at once and the other handshake won. Like real
        // Broker, look again shortly: succeed once it peered, else dial
        // again.
        origin->peer = *peer_id;
        auto key = key_of(origin->address, origin->port);
        origin->timer = loop_.schedule(1ms, [this, key] {
          auto i = connectors_.find(key);
          if (i == connectors_.end() || shutting_down_)
            return;
          auto& con = *i->second;
          con.timer = 0;
          if (con.peer && peered_.count(*con.peer) > 0)
            adopt_peering(con, *con.peer);
          else
            connect(con);
        });
        return;
      }
      on_connect_failed(*origin, err);
    } else if (!benign && !racing) {
      emit_error(err.code(), info, err.message());
    }
    return;
  }
  if (c.hs.done())
    on_peered(c);
}

void core::adopt_peering(connector& origin, const endpoint_id& peer) {
  // The peering exists over another connection. Like real Broker, the
  // address the user asked for takes over that peering when it has none of
  // its own, so that we reconnect if it is lost and unpeer() finds it.
  origin.peer = peer;
  if (auto i = peered_.find(peer); i != peered_.end()) {
    auto* existing = i->second;
    if (existing->origin == nullptr) {
      existing->origin = &origin;
      origin.conn = existing;
      origin.ever_peered = true;
    }
  }
  auto waiters = std::move(origin.waiters);
  origin.waiters.clear();
  for (auto& w : waiters)
    w(true);
}

void core::on_peered(connection& c) {
  auto peer = *c.hs.peer();
  if (peered_.count(peer) > 0) {
    // Lost a race against another connection to the same peer.
    auto* origin = c.origin;
    c.gone = true;
    c.stream->close();
    remove_connection(c);
    if (origin) {
      origin->conn = nullptr;
      adopt_peering(*origin, peer);
    }
    return;
  }
  c.peered = true;
  std::erase_if(pending_, [&c](const std::weak_ptr<net::stream>& w) {
    return w.lock() == c.stream;
  });
  if (c.handshake_timer) {
    loop_.cancel(c.handshake_timer);
    c.handshake_timer = 0;
  }
  c.filter = c.hs.peer_filter();
  c.stream->reject_empty_frames(false);
  peered_.emplace(peer, &c);
  if (c.origin) {
    c.origin->peer = peer;
    c.origin->ever_peered = true;
  }
  publish_peered_snapshot();
  auto info = info_of(c);
  emit_status(sc::endpoint_discovered, info, "found a new peer in the network");
  emit_status(sc::peer_added, info, "handshake successful");
  // Tell the peer what we are in the overlay (a real Broker answers with a
  // pong and ignores it); our filter may also have grown while the
  // handshake ran.
  send_overlay_update(c, overlay_.own());
  refresh_routing();
  if (c.origin) {
    auto waiters = std::move(c.origin->waiters);
    c.origin->waiters.clear();
    for (auto& w : waiters)
      w(true);
  }
}

void core::drop_connection(connection& c, ec code, const std::string& why) {
  if (c.gone)
    return;
  auto info = info_of(c);
  if (!c.peered)
    c.stream->write(frame_of(bin::drop_conn_msg{id_, code, why}));
  emit_error(code, info, why);
  c.gone = true;
  c.stream->close();
  on_connection_gone(c, error{code, why});
}

void core::handle_closed(connection& c, const error& reason) {
  if (c.gone)
    return;
  c.gone = true;
  // Bytes that are not frames at all (say, a TLS ClientHello sent to a
  // plain port) end a connection we did not dial without a handshake
  // failure to report; say what happened.
  if (!c.peered && !c.origin && reason.code() == ec::invalid_message)
    emit_error(reason.code(), info_of(c), reason.message());
  on_connection_gone(c, reason);
}

void core::on_connection_gone(connection& c, const error& reason) {
  auto info = info_of(c);
  auto* origin = c.origin;
  bool was_peered = c.peered;
  if (was_peered) {
    peered_.erase(*c.hs.peer());
    paused_.erase(&c);
    if (c.ours && overlay_.remove_neighbour(*c.hs.peer()))
      for (auto& [id, other] : peered_)
        if (other->ours)
          send_overlay_update(*other, overlay_.own());
    if (!shutting_down_)
      refresh_routing();
    publish_peered_snapshot();
    if (c.removed_by_us)
      emit_status(sc::peer_removed, info,
                  c.removal_reason.empty() ? "removed connection to remote peer"
                                           : c.removal_reason);
    else
      emit_status(sc::peer_lost, info, "lost connection to remote peer");
    emit_status(sc::endpoint_unreachable, info, "lost the last path");
  }
  if (c.bye_timer)
    loop_.cancel(c.bye_timer);
  if (c.handshake_timer)
    loop_.cancel(c.handshake_timer);
  auto after_bye = std::move(c.after_bye);
  remove_connection(c);
  if (after_bye)
    after_bye();
  if (origin && !shutting_down_) {
    origin->conn = nullptr;
    if (origin->unpeering)
      return;
    if (was_peered && origin->retry > 0) {
      // Reconnect at once after losing a peering (golden captures: ~1 ms),
      // later attempts are spaced by `retry`.
      auto key = key_of(origin->address, origin->port);
      origin->timer = loop_.schedule(1ms, [this, key] {
        if (auto i = connectors_.find(key); i != connectors_.end())
          connect(*i->second);
      });
    } else if (was_peered) {
      connectors_.erase(key_of(origin->address, origin->port));
    } else {
      on_connect_failed(*origin, reason.code() == ec::none
                                   ? error{ec::peer_unavailable,
                                           "connection closed"}
                                   : reason);
    }
  }
  // A full peer that went away no longer blocks publishing.
  if (waiting_for_writes_)
    drain_publish_queue();
}

void core::remove_connection(connection& c) {
  for (auto i = connections_.begin(); i != connections_.end(); ++i) {
    if (i->get() == &c) {
      // Keep the object alive until the current callback returns.
      auto keep = *i;
      connections_.erase(i);
      loop_.post([keep] {});
      // A closing stream still writes out its queue; shutdown waits for
      // it (await_flushed) so that its socket really closes.
      std::erase_if(closing_streams_, [](auto& s) { return s->closed(); });
      if (!keep->stream->closed())
        closing_streams_.push_back(keep->stream);
      return;
    }
  }
}

void core::handle_envelope(connection& c, std::span<const std::byte> payload) {
  auto env = bin::read_envelope(payload);
  if (!env) {
    drop_connection(c, ec::invalid_message, env.error().message());
    return;
  }
  switch (env->type) {
    case bin::msg_type::data: {
      // Between our endpoints the sender field names the origin: one of
      // ours came back to us (only while the overlay converges).
      if (c.ours && env->sender == id_)
        return;
      bool to_us = env->receiver.is_nil() || env->receiver == id_;
      data value;
      if (to_us) {
        auto decoded = bin::decode(env->payload);
        if (!decoded && decoded.error().code() == ec::invalid_data) {
          // Well-formed but beyond our limits (nesting): this message is
          // lost here, said so; the connection and everything after stay.
          emit_error(ec::invalid_data, info_of(c),
                     "dropped a message on topic " + std::string{env->topic}
                       + ": " + decoded.error().message());
          forward_frame(c, *env, payload);
          return;
        }
        if (!decoded) {
          drop_connection(c, ec::invalid_message,
                          "malformed data message on topic "
                            + std::string{env->topic} + ": "
                            + decoded.error().message());
          return;
        }
        value = std::move(*decoded);
      }
      forward_frame(c, *env, payload);
      if (to_us) {
        std::string topic{env->topic};
        deliver_data(topic, message_source{&c, std::nullopt, false}, [&] {
          return std::make_shared<data_message>(
            data_message{topic, std::move(value)});
        });
      }
      return;
    }
    case bin::msg_type::command:
      if (c.ours && env->sender == id_)
        return;
      // Store traffic is routed like data and consumed by participants.
      forward_frame(c, *env, payload);
      if (env->receiver.is_nil() || env->receiver == id_)
        deliver_command(std::string{env->topic}, env->payload, std::nullopt);
      return;
    case bin::msg_type::routing_update: {
      auto filter = bin::decode_filter(env->payload);
      if (!filter) {
        drop_connection(c, ec::invalid_message,
                        "malformed routing update: "
                          + filter.error().message());
        return;
      }
      c.filter = normalize_filter(std::move(*filter));
      refresh_routing();
      return;
    }
    case bin::msg_type::ping:
      if (bin::is_overlay_update(env->payload)) {
        handle_overlay_update(c, env->payload);
        return;
      }
      send_to(c,
              envelope_frame(id_, *c.hs.peer(), bin::msg_type::pong,
                             bin::internal_topic, env->payload),
              frame_kind::control);
      return;
    case bin::msg_type::pong: {
      if (c.bye_id && env->payload.size() == 3 + 8
          && std::memcmp(env->payload.data(), bye_prefix.data(), 3) == 0) {
        uint64_t id;
        std::memcpy(&id, env->payload.data() + 3, 8);
        if (id == *c.bye_id) {
          // The peer has seen everything we sent before the BYE.
          c.gone = true;
          c.stream->close();
          on_connection_gone(c, error{});
        }
      }
      return;
    }
    default:
      drop_connection(c, ec::invalid_message, "unexpected message type");
  }
}

template <class MakeMessage>
void core::deliver_data(const std::string& topic, const message_source& from,
                        MakeMessage make) {
  data_message_ptr msg;
  // What local code publishes does not come back to its own subscribers.
  if (!from.local_code) {
    for (auto& sub : subscribers_) {
      if (!filter_matches(sub.topics, topic))
        continue;
      // Shutting down: no more backpressure (see shutdown()); a full queue
      // drops what still arrives instead of growing, as it closes anyway.
      if (shutting_down_ && sub.queue->full())
        continue;
      if (!msg)
        msg = make();
      if (sub.queue->push(msg) && from.peer && !shutting_down_) {
        // Backpressure: stop reading from this peer until the subscriber
        // catches up (resume_paused runs when its queue drains).
        from.peer->stream->pause_reading();
        paused_.insert(from.peer);
      }
    }
  }
  for (auto& p : participants_) {
    if (!p.hooks.on_data || p.id == from.participant
        || !filter_matches(p.topics, topic))
      continue;
    if (!msg)
      msg = make();
    if (msg)
      p.hooks.on_data(msg, from.local_code);
  }
}

void core::resume_paused() {
  for (auto& sub : subscribers_)
    if (sub.queue->full())
      return;
  auto paused = std::move(paused_);
  paused_.clear();
  for (auto* c : paused)
    if (!c->gone)
      c->stream->resume_reading();
}

void core::forward_frame(connection& from, const bin::envelope_view& env,
                         std::span<const std::byte> payload) {
  // Nothing to do for a leaf (the only peer is where it came from): the
  // common case, kept free of routing work.
  if (!cfg_.options.forward || env.receiver == id_ || peered_.size() < 2)
    return;
  // Among our own endpoints the TTL stops cycles; real Broker sends 16 and
  // never decrements it, so this stays compatible.
  if (env.ttl <= 1)
    return;
  // The overlay origin: what an endpoint of ours put in the sender field,
  // or us when the message enters the overlay from a real Broker peer.
  // While the overlay has not converged on a new link (we are not yet in
  // the origin's tree), we relay as if it started here: a duplicate in a
  // cycle during those milliseconds is better than a loss.
  auto origin = from.ours ? env.sender : id_;
  if (origin != id_ && !overlay_.in_tree_of(origin))
    origin = id_;
  net::frame_ptr to_ours;  // sender field: the origin
  net::frame_ptr to_real;  // sender field: us, the last hop
  auto frame_for = [&](connection& c) {
    bool ours = overlay_routed(c);
    auto& f = ours ? to_ours : to_real;
    if (!f)
      f = bin::forwarded_frame(payload, ours ? origin : id_, env.ttl - 1);
    return f;
  };
  if (!env.receiver.is_nil()) {
    if (auto* next = next_hop_to(env.receiver)) {
      if (next != &from)
        send_to(*next, frame_for(*next), frame_kind::data);
      return;
    }
    // Unknown receiver: relay by topic like a published message.
  }
  // Choose first, send after: sending can apply a peer's overflow policy,
  // and disconnecting it changes peered_.
  auto& hops = overlay_.next_hops(origin, env.topic);
  std::vector<connection*> targets;
  for (auto& [id, peer] : peered_)
    if (peer != &from && gets(*peer, hops, env.topic))
      targets.push_back(peer);
  for (auto* peer : targets)
    send_to(*peer, frame_for(*peer), frame_kind::data);
}

void core::on_written() {
  // Progress: a peer with room again is not stuck, and one that drained to
  // half its buffer ends its overflow episode.
  for (auto& [id, c] : peered_) {
    if (!peer_full(*c))
      c->full_since.reset();
    if (c->dropping
        && c->stream->queued() <= cfg_.options.peer_buffer_size / 2)
      c->dropping = false;
  }
  if (waiting_for_writes_)
    drain_publish_queue();
}

bool core::must_wait(const std::vector<connection*>& targets) {
  auto now = std::chrono::steady_clock::now();
  auto seconds = [](double x) {
    return std::chrono::duration_cast<timespan>(std::chrono::duration<double>(x));
  };
  auto grace = seconds(cfg_.options.peer_full_grace);
  auto bound = seconds(cfg_.options.publish_stall_timeout);
  // While another target has room, a full peer gets only the grace period
  // (buffers fill for a moment even at fast consumers); when all are full,
  // the publisher waits up to the stall bound.
  bool any_room = false;
  for (auto* c : targets)
    if (!c->gone && !peer_full(*c))
      any_room = true;
  bool wait = false;
  for (auto* c : targets) {
    if (c->gone || c->dropping || !peer_full(*c))
      continue;
    if (!c->full_since) {
      c->full_since = now;
      // Come back when its time is up, even if no write completes.
      for (auto delay : {grace, bound})
        loop_.schedule(delay, [this] {
          if (waiting_for_writes_)
            drain_publish_queue();
        });
    }
    if (now - *c->full_since < (any_room ? grace : bound))
      wait = true;
  }
  return wait;
}

bool core::peer_full(const connection& c) const noexcept {
  return c.stream->queued() >= cfg_.options.peer_buffer_size;
}

void core::send_to(connection& c, net::frame_ptr frame, frame_kind kind) {
  if (c.gone)
    return;
  // Control frames (routing, pongs, overlay updates) are few and small, and
  // losing one would break the peering: they always go in.
  if (kind == frame_kind::data && peer_full(c)) {
    auto policy = cfg_.options.peer_overflow_policy;
    if (policy != overflow_policy::disconnect && !c.dropping) {
      // Once per overflow episode (until the buffer drained to half).
      c.dropping = true;
      emit_error(ec::peer_timeout, info_of(c),
                 std::string{"peer buffer full: dropping the "}
                   + (policy == overflow_policy::drop_newest ? "newest"
                                                             : "oldest")
                   + " messages for this peer");
    }
    switch (policy) {
      case overflow_policy::drop_newest:
        return;
      case overflow_policy::drop_oldest:
        if (c.stream->drop_oldest_queued())
          break;
        return;
      case overflow_policy::disconnect:
        // As real Broker: the peer is removed, and the status says why in
        // the words Zeek's scripts look for.
        c.removed_by_us = true;
        c.removal_reason = "caf::sec::backpressure_overflow: the peer's "
                           "buffer of "
                           + std::to_string(cfg_.options.peer_buffer_size)
                           + " messages overflowed";
        emit_error(ec::peer_timeout, info_of(c), c.removal_reason);
        c.gone = true;
        c.stream->abort();
        on_connection_gone(c, error{ec::peer_timeout, c.removal_reason});
        return;
    }
  }
  c.stream->write(std::move(frame));
}

// -- publishing -----------------------------------------------------------------

bool core::publish(std::vector<outgoing_message> msgs,
                   std::chrono::steady_clock::time_point deadline) {
  std::unique_lock guard{pub_mtx_};
  for (auto& msg : msgs) {
    if (pub_queue_.size() >= pub_capacity_) {
      if (!pub_cv_.wait_until(guard, deadline, [this] {
            return pub_queue_.size() < pub_capacity_ || stopped_;
          }))
        return false;
    }
    if (stopped_)
      return false;
    pub_queue_.push_back(std::move(msg));
    if (pub_queue_.size() == pub_capacity_)
      pub_flare_.extinguish();
    if (!pub_scheduled_) {
      pub_scheduled_ = true;
      loop_.post([this] { drain_publish_queue(); });
    }
  }
  return true;
}

size_t core::publish_queue_size() {
  std::unique_lock guard{pub_mtx_};
  return pub_queue_.size();
}

std::vector<core::connection*> core::targets_of(const outgoing_message& msg) {
  std::vector<connection*> result;
  // A receiver goes the shortest way; one we cannot place (not in the
  // overlay) is reached by topic, like a published message.
  if (!msg.receiver.is_nil()) {
    if (msg.receiver == id_)
      return result;
    if (auto* next = next_hop_to(msg.receiver)) {
      result.push_back(next);
      return result;
    }
  }
  auto& hops = overlay_.next_hops(id_, msg.topic);
  for (auto& [id, c] : peered_)
    if (gets(*c, hops, msg.topic))
      result.push_back(c);
  return result;
}

void core::route_outgoing(const outgoing_message& msg,
                          const std::vector<connection*>& targets) {
  for (auto* c : targets)
    send_to(*c, msg.frame, frame_kind::data);
  if (!msg.receiver.is_nil() && msg.receiver != id_)
    return;
  if (!msg.from) {
    // Local code's message: only participants may want it.
    bool wanted = false;
    for (auto& p : participants_)
      if (filter_matches(p.topics, msg.topic))
        wanted = true;
    if (!wanted)
      return;
  }
  auto env = bin::read_envelope(
    std::span{msg.frame->data() + 4, msg.frame->size() - 4});
  if (!env)
    return;
  if (env->type == bin::msg_type::command) {
    deliver_command(msg.topic, env->payload, msg.from);
    return;
  }
  message_source from{nullptr, msg.from, !msg.from};
  deliver_data(msg.topic, from, [&]() -> data_message_ptr {
    if (msg.value)
      return msg.value;
    auto decoded = bin::decode(env->payload);
    if (!decoded)
      return nullptr; // we encoded it: cannot happen
    return std::make_shared<data_message>(
      data_message{msg.topic, std::move(*decoded)});
  });
}

void core::drain_publish_queue() {
  waiting_for_writes_ = false;
  // Works in batches: one lock per batch, and the targets of a run of
  // messages on the same topic are computed once.
  constexpr size_t max_batch = 1024;
  std::deque<outgoing_message> batch;
  std::vector<connection*> targets;
  for (;;) {
    {
      std::unique_lock guard{pub_mtx_};
      if (pub_queue_.empty()) {
        pub_scheduled_ = false;
        break;
      }
      if (pub_queue_.size() >= pub_capacity_)
        pub_flare_.fire(); // there will be room again
      auto n = static_cast<std::ptrdiff_t>(
        std::min(pub_queue_.size(), max_batch));
      batch.assign(std::make_move_iterator(pub_queue_.begin()),
                   std::make_move_iterator(pub_queue_.begin() + n));
      pub_queue_.erase(pub_queue_.begin(), pub_queue_.begin() + n);
    }
    pub_cv_.notify_all();
    bool cached = false; // targets are valid for last_topic/last_receiver
    std::string last_topic;
    endpoint_id last_receiver;
    while (!batch.empty()) {
      auto& item = batch.front();
      if (!cached || item.topic != last_topic
          || item.receiver != last_receiver) {
        cached = true;
        last_topic = item.topic;
        last_receiver = item.receiver;
        targets = targets_of(item);
      }
      // Flow control (docs/decisions/0007-flow-control.md): the publisher
      // waits while a target's buffer is full, but only as long as that
      // peer makes progress; one that took nothing for
      // publish_stall_timeout gets its overflow policy, and the others go
      // on at their own pace.
      if (must_wait(targets)) {
        std::unique_lock guard{pub_mtx_};
        pub_queue_.insert(pub_queue_.begin(),
                          std::make_move_iterator(batch.begin()),
                          std::make_move_iterator(batch.end()));
        if (pub_queue_.size() >= pub_capacity_)
          pub_flare_.extinguish();
        waiting_for_writes_ = true;
        return; // pub_scheduled_ stays set: on_written or a timer resumes
      }
      route_outgoing(item, targets);
      batch.pop_front();
    }
  }
  pub_cv_.notify_all();
}

// -- subscriptions ----------------------------------------------------------------

filter_type core::local_filter() const {
  filter_type result = forwards_;
  for (auto& p : participants_)
    result.insert(result.end(), p.topics.begin(), p.topics.end());
  for (auto& sub : subscribers_)
    for (auto& t : sub.topics)
      if (!is_local_only(t))
        result.push_back(t);
  return normalize_filter(std::move(result));
}

filter_type core::filter_for(const connection& c) {
  // What we want, and, when we relay, what everyone behind us wants: our
  // overlay (its endpoints' subscriptions and their real Broker peers')
  // and our other real Broker peers. That makes a chain relay through an
  // endpoint that subscribes to nothing.
  auto result = local_filter();
  if (!cfg_.options.forward)
    return result;
  auto peer = c.hs.peer() ? *c.hs.peer() : endpoint_id{};
  auto others = overlay_.wants_of_others(peer);
  result.insert(result.end(), others.begin(), others.end());
  for (auto& [id, other] : peered_)
    if (other != &c && !overlay_routed(*other))
      result.insert(result.end(), other->filter.begin(), other->filter.end());
  return normalize_filter(std::move(result));
}

core::connection* core::next_hop_to(const endpoint_id& node) {
  if (auto i = peered_.find(node); i != peered_.end())
    return i->second;
  if (auto hop = overlay_.next_hop_to(node))
    if (auto j = peered_.find(*hop); j != peered_.end())
      return j->second;
  return nullptr;
}

bool core::gets(const connection& c, const std::vector<endpoint_id>& hops,
                std::string_view topic) const {
  if (overlay_routed(c))
    return std::find(hops.begin(), hops.end(), *c.hs.peer()) != hops.end();
  return filter_matches(c.filter, topic);
}

bool core::overlay_routed(const connection& c) const noexcept {
  return c.ours && c.hs.peer() && overlay_.linked(*c.hs.peer());
}

void core::update_local_interest() {
  for (auto& [topic, flag] : interest_watches_) {
    bool wanted = false;
    for (auto& sub : subscribers_)
      if (filter_matches(sub.topics, topic))
        wanted = true;
    flag->store(wanted, std::memory_order_relaxed);
  }
  bool has_hook = false;
  for (auto& p : participants_)
    if (p.hooks.on_local_topics)
      has_hook = true;
  if (!has_hook)
    return;
  filter_type topics;
  for (auto& sub : subscribers_)
    topics.insert(topics.end(), sub.topics.begin(), sub.topics.end());
  topics = normalize_filter(std::move(topics));
  for (auto& p : participants_)
    if (p.hooks.on_local_topics)
      p.hooks.on_local_topics(topics);
}

void core::refresh_routing() {
  // What we want in the overlay: our own topics and, when we relay, those
  // of our real Broker peers (the overlay brings their messages to us).
  auto wants = local_filter();
  if (cfg_.options.forward)
    for (auto& [id, c] : peered_)
      if (!c->ours)
        wants.insert(wants.end(), c->filter.begin(), c->filter.end());
  if (overlay_.set_local(std::move(wants), cfg_.options.forward))
    for (auto& [id, c] : peered_)
      if (c->ours)
        send_overlay_update(*c, overlay_.own());
  update_filters();
  publish_peered_snapshot();
}

void core::update_filters() {
  // Real Broker only announces growth; a shrinking filter is not sent.
  for (auto& [id, c] : peered_) {
    auto filter = filter_for(*c);
    bool grew = false;
    for (auto& t : filter)
      if (!filter_matches(c->advertised, t)) {
        grew = true;
        break;
      }
    if (!grew)
      continue;
    filter.insert(filter.end(), c->advertised.begin(), c->advertised.end());
    c->advertised = normalize_filter(std::move(filter));
    std::vector<std::byte> payload;
    bin::encode_filter(c->advertised, payload);
    send_to(*c,
            envelope_frame(id_, id, bin::msg_type::routing_update,
                           bin::internal_topic, payload),
            frame_kind::control);
  }
}

void core::send_overlay_update(connection& c, const overlay::update& u) {
  std::vector<std::byte> payload;
  bin::encode(u, payload);
  send_to(c,
          envelope_frame(id_, *c.hs.peer(), bin::msg_type::ping,
                         bin::internal_topic, payload),
          frame_kind::control);
}

void core::handle_overlay_update(connection& c,
                                 std::span<const std::byte> payload) {
  auto update = bin::decode_overlay_update(payload);
  if (!update) {
    drop_connection(c, ec::invalid_message, update.error().message());
    return;
  }
  auto peer = *c.hs.peer();
  if (!c.ours) {
    // One of ours: from now on it takes part in the overlay. It learns
    // everything we know, and we list it as our neighbour.
    c.ours = true;
    overlay_.add_neighbour(peer);
    for (auto* u : overlay_.all())
      send_overlay_update(c, *u);
    for (auto& [id, other] : peered_)
      if (other != &c && other->ours)
        send_overlay_update(*other, overlay_.own());
  }
  auto origin = update->origin;
  if (overlay_.accept(std::move(*update))) {
    // News: flood it on, unchanged.
    for (auto* u : overlay_.all())
      if (u->origin == origin)
        for (auto& [id, other] : peered_)
          if (other != &c && other->ours)
            send_overlay_update(*other, *u);
  }
  refresh_routing();
}

std::shared_ptr<subscriber_queue>
core::subscribe(std::vector<std::string> topics, size_t capacity) {
  auto q = std::make_shared<subscriber_queue>(capacity);
  std::weak_ptr<core> weak = weak_from_this();
  q->on_drained([this, weak] {
    if (auto self = weak.lock(); self && !stopped_)
      loop_.post([this] { resume_paused(); });
  });
  if (stopped_) {
    q->close();
    return q;
  }
  if (!run_blocking([&] {
        subscribers_.push_back({q, normalize_filter(std::move(topics))});
        refresh_routing();
        update_local_interest();
      }))
    q->close(); // shut down meanwhile: a closed queue, as after shutdown
  return q;
}

void core::add_topic(const std::shared_ptr<subscriber_queue>& q,
                     std::string topic, std::function<void()> done) {
  loop_.post([this, q, topic = std::move(topic), done = std::move(done)] {
    for (auto& sub : subscribers_)
      if (sub.queue == q) {
        auto xs = sub.topics;
        xs.push_back(topic);
        sub.topics = normalize_filter(std::move(xs));
      }
    refresh_routing();
    update_local_interest();
    if (done)
      done();
  });
}

void core::remove_topic(const std::shared_ptr<subscriber_queue>& q,
                        std::string topic, std::function<void()> done) {
  loop_.post([this, q, topic = std::move(topic), done = std::move(done)] {
    for (auto& sub : subscribers_)
      if (sub.queue == q)
        std::erase(sub.topics, topic);
    refresh_routing();
    update_local_interest();
    if (done)
      done();
  });
}

void core::unsubscribe(const std::shared_ptr<subscriber_queue>& q) {
  q->close();
  if (stopped_)
    return;
  loop_.post([this, q] {
    std::erase_if(subscribers_,
                  [&](const subscription& s) { return s.queue == q; });
    refresh_routing();
    update_local_interest();
    resume_paused();
  });
}

std::shared_ptr<status_queue> core::subscribe_status(bool receive_statuses) {
  auto q = std::make_shared<status_queue>(4096);
  if (stopped_) {
    q->close();
    return q;
  }
  if (!run_blocking([&] { status_subs_.emplace_back(q, receive_statuses); }))
    q->close(); // shut down meanwhile: a closed queue, as above
  return q;
}

void core::unsubscribe_status(const std::shared_ptr<status_queue>& q) {
  q->close();
  if (stopped_)
    return;
  loop_.post([this, q] {
    std::erase_if(status_subs_, [&](auto& x) { return x.first == q; });
  });
}

void core::forward(std::vector<std::string> topics) {
  loop_.post([this, topics = std::move(topics)] {
    forwards_.insert(forwards_.end(), topics.begin(), topics.end());
    forwards_ = normalize_filter(std::move(forwards_));
    refresh_routing();
  });
}

// -- queries ---------------------------------------------------------------------

std::vector<peer_info> core::peers() {
  if (stopped_)
    return {};
  return run_blocking([this] {
    std::vector<peer_info> result;
    for (auto& [id, c] : peered_) {
      peer_info info;
      info.peer = info_of(*c);
      info.status = peer_status::peered;
      info.flags = peer_flag_remote
                   | (c->origin ? peer_flag_outbound : peer_flag_inbound);
      result.push_back(std::move(info));
    }
    for (auto& [key, c] : connectors_) {
      if (c->conn && c->conn->peered)
        continue;
      // Resolved as redundant: the peering runs over another connection.
      if (!c->conn && c->peer && peered_.count(*c->peer) > 0)
        continue;
      peer_info info;
      if (c->peer)
        info.peer.node = *c->peer;
      info.peer.network = network_info{c->address, c->port, c->retry};
      info.status = c->ever_peered ? peer_status::reconnecting
                                   : peer_status::connecting;
      info.flags = peer_flag_remote | peer_flag_outbound;
      result.push_back(std::move(info));
    }
    return result;
  }).value_or(std::vector<peer_info>{});
}

std::vector<std::string> core::peer_subscriptions() {
  if (stopped_)
    return {};
  return run_blocking([this] {
    filter_type all;
    for (auto& [id, c] : peered_)
      all.insert(all.end(), c->filter.begin(), c->filter.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
  }).value_or(std::vector<std::string>{});
}

bool core::await_peer(const endpoint_id& node,
                      std::chrono::steady_clock::time_point deadline) {
  std::unique_lock guard{snap_mtx_};
  return snap_cv_.wait_until(guard, deadline, [&] {
    return peered_snapshot_.count(node) > 0 || stopped_;
  }) && peered_snapshot_.count(node) > 0;
}

// -- participants -------------------------------------------------------------------

void core::deliver_command(const std::string& topic,
                           std::span<const std::byte> payload,
                           std::optional<participant_id> skip) {
  for (auto& p : participants_) {
    if (!p.hooks.on_command || p.id == skip
        || !filter_matches(p.topics, topic))
      continue;
    p.hooks.on_command(command_message{topic, {payload.begin(), payload.end()}});
  }
}

std::optional<participant_id>
core::add_participant(std::vector<std::string> topics, participant_hooks hooks) {
  if (stopped_)
    return std::nullopt;
  auto add = [&] {
    auto id = next_participant_id_++;
    participants_.push_back(
      {id, normalize_filter(std::move(topics)), std::move(hooks)});
    if (auto& hook = participants_.back().hooks.on_local_topics) {
      filter_type local;
      for (auto& sub : subscribers_)
        local.insert(local.end(), sub.topics.begin(), sub.topics.end());
      hook(normalize_filter(std::move(local)));
    }
    refresh_routing();
    return id;
  };
  if (loop_.in_loop_thread())
    return add();
  return run_blocking(add);
}

void core::set_participant_topics(participant_id id,
                                  std::vector<std::string> topics) {
  if (stopped_)
    return;
  loop_.post([this, id, topics = std::move(topics)]() mutable {
    for (auto& p : participants_)
      if (p.id == id)
        p.topics = normalize_filter(std::move(topics));
    refresh_routing();
  });
}

void core::remove_participant(participant_id id) {
  if (stopped_)
    return;
  auto remove = [this, id] {
    std::erase_if(participants_, [id](auto& p) { return p.id == id; });
    refresh_routing();
  };
  if (loop_.in_loop_thread())
    remove();
  else
    run_blocking(remove);
}

bool core::publish_from(participant_id id, std::vector<outgoing_message> msgs,
                        std::chrono::steady_clock::time_point deadline) {
  for (auto& msg : msgs)
    msg.from = id;
  return publish(std::move(msgs), deadline);
}

void core::route_from(participant_id id, outgoing_message msg) {
  if (shutting_down_)
    return;
  msg.from = id;
  route_outgoing(msg, targets_of(msg));
}

std::shared_ptr<const std::atomic<bool>>
core::watch_interest(std::string topic) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  if (stopped_)
    return flag;
  run_blocking([&] {
    interest_watches_.emplace_back(std::move(topic), flag);
    update_local_interest();
  });
  return flag;
}

bool core::claim_master(const std::string& name) {
  std::unique_lock guard{masters_mtx_};
  return masters_.insert(name).second;
}

void core::release_master(const std::string& name) {
  std::unique_lock guard{masters_mtx_};
  masters_.erase(name);
}

void core::deliver_local_only(std::string topic, data value) {
  if (stopped_)
    return;
  loop_.post([this, topic = std::move(topic), value = std::move(value)]() mutable {
    auto msg = std::make_shared<data_message>(
      data_message{topic, std::move(value)});
    for (auto& sub : subscribers_)
      if (filter_matches(sub.topics, topic))
        sub.queue->push(msg); // store events: no peer to hold back
  });
}

void core::report_error(ec code, std::string message) {
  if (stopped_)
    return;
  loop_.post([this, code, message = std::move(message)]() mutable {
    emit_error(code, endpoint_info{id_, std::nullopt}, std::move(message));
  });
}

bool core::peer_subscribed_exactly(const std::string& topic) {
  if (stopped_)
    return false;
  return run_blocking([&] {
    for (auto& [id, c] : peered_)
      for (auto& t : c->filter)
        if (t == topic)
          return true;
    return overlay_.wanted_exactly_elsewhere(topic);
  }).value_or(false);
}

// -- unpeering and shutdown ---------------------------------------------------------

void core::send_bye(connection& c) {
  // "BYE" plus a u64 counter in host byte order (golden captures).
  std::vector<std::byte> payload(11);
  std::memcpy(payload.data(), bye_prefix.data(), 3);
  uint64_t id = ++bye_counter_;
  std::memcpy(payload.data() + 3, &id, 8);
  c.bye_id = id;
  c.removed_by_us = true;
  c.stream->write(envelope_frame(id_, *c.hs.peer(), bin::msg_type::ping,
                                 bin::internal_topic, payload));
  auto weak = std::weak_ptr<net::stream>(c.stream);
  auto timeout = std::chrono::duration_cast<timespan>(
    std::chrono::duration<double>(cfg_.options.bye_timeout));
  auto* cp = &c;
  c.bye_timer = loop_.schedule(timeout, [this, cp, weak] {
    // No pong in time: close anyway. `weak` tells whether cp still lives.
    if (weak.expired() || cp->gone)
      return;
    cp->bye_timer = 0;
    cp->gone = true;
    cp->stream->close();
    on_connection_gone(*cp, error{});
  });
}

void core::unpeer(const std::string& address, uint16_t port,
                  std::function<void(bool)> done) {
  loop_.post([this, address, port, done = std::move(done)]() mutable {
    auto key = key_of(address, port);
    auto i = connectors_.find(key);
    bool found = i != connectors_.end();
    connection* target = nullptr;
    if (found) {
      auto& c = *i->second;
      c.unpeering = true;
      if (c.timer)
        loop_.cancel(c.timer);
      for (auto& w : c.waiters)
        w(false);
      c.waiters.clear();
      target = c.conn;
      connectors_.erase(i);
      if (target)
        target->origin = nullptr;
    } else {
      // An inbound peering, identified by its remote address.
      for (auto& [id, c] : peered_)
        if (c->stream->remote_address() == address
            && c->stream->remote_port() == port)
          target = c;
    }
    if (target == nullptr) {
      done(found); // `i` may be erased by now
      return;
    }
    if (!target->peered) {
      target->gone = true;
      target->stream->abort();
      remove_connection(*target);
      done(true);
      return;
    }
    target->after_bye = [done] { done(true); };
    send_bye(*target);
  });
}

void core::shutdown() {
  std::unique_lock guard{shutdown_mtx_};
  if (stopped_)
    return;
  std::promise<void> finished;
  auto fut = finished.get_future();
  loop_.post([this, &finished] {
    shutting_down_ = true;
    // Local subscribers no longer hold back peers: a connection paused for
    // backpressure would never read the pong to our BYE (nor its EOF), and
    // shutdown would wait out the BYE timeout.
    auto paused = std::move(paused_);
    paused_.clear();
    for (auto* c : paused)
      if (!c->gone)
        c->stream->resume_reading();
    for (auto& l : listeners_)
      l->close();
    for (auto& [key, c] : connectors_) {
      if (c->timer)
        loop_.cancel(c->timer);
      for (auto& w : c->waiters)
        w(false);
      c->waiters.clear();
    }
    on_shutdown_done_ = [&finished] { finished.set_value(); };
    // Flush what was published before shutdown() into the peer buffers.
    drain_publish_queue();
    // BYE to every peer; finish when all answered or timed out.
    std::vector<connection*> peers;
    for (auto& [id, c] : peered_)
      peers.push_back(c);
    for (auto* c : peers) {
      c->after_bye = [this] {
        if (peered_.empty())
          finish_shutdown();
      };
      send_bye(*c);
    }
    if (peers.empty())
      finish_shutdown();
  });
  fut.wait();
  loop_.stop();
  for (auto& sub : subscribers_)
    sub.queue->close();
  for (auto& [q, statuses] : status_subs_)
    q->close();
  {
    std::unique_lock pguard{pub_mtx_};
    pub_queue_.clear();
  }
  pub_cv_.notify_all();
  snap_cv_.notify_all();
  connections_.clear();
  connectors_.clear();
  listeners_.clear();
}

void core::finish_shutdown() {
  if (!on_shutdown_done_ || stopped_)
    return;
  stopped_ = true;
  for (auto& c : connections_) {
    if (!c->gone) {
      c->gone = true;
      c->stream->close();
    }
  }
  await_flushed(std::chrono::steady_clock::now() + 2s);
}

void core::await_flushed(std::chrono::steady_clock::time_point deadline) {
  // Closing streams write out what they queued, then close their sockets.
  bool flushed = true;
  for (auto& c : connections_)
    if (!c->stream->closed())
      flushed = false;
  for (auto& [id, c] : peered_)
    if (!c->stream->closed())
      flushed = false;
  // Connections already removed (e.g. after the BYE pong) may still be
  // writing: stopping the loop now would leave their sockets open forever.
  std::erase_if(closing_streams_, [](auto& s) { return s->closed(); });
  if (!closing_streams_.empty())
    flushed = false;
  if (!flushed && std::chrono::steady_clock::now() < deadline) {
    loop_.schedule(1ms, [this, deadline] { await_flushed(deadline); });
    return;
  }
  // Out of time: close what is left rather than leak open sockets.
  for (auto& s : closing_streams_)
    s->abort();
  closing_streams_.clear();
  for (auto& c : connections_)
    if (!c->stream->closed())
      c->stream->abort();
  auto done = std::move(on_shutdown_done_);
  on_shutdown_done_ = nullptr;
  if (done)
    done();
}

} // namespace broker::detail
