#include "core/peer_manager.hh"

#include "util/assert.hh"

#include "format/bin/frames.hh"

#include <algorithm>

namespace broker::detail {

namespace bin = format::bin;
using namespace std::chrono_literals;

// A connection and the stream events that drive it.
struct peer_manager::link : net::stream::handler {
  peer_manager* owner;
  connection conn;

  link(peer_manager* o, handshake::role r) : owner(o), conn(r) {}

  void on_frame(std::span<const std::byte> payload) override {
    owner->handle_frame(conn, payload);
  }

  void on_closed(const error& reason) override {
    owner->handle_closed(conn, reason);
  }

  void on_written() override { owner->router_.on_written(); }
};

peer_manager::peer_manager(const configuration& cfg, const endpoint_id& id,
                           net::loop& loop, net::tls_context_ptr tls,
                           statuses& st, router& r)
  : cfg_(cfg),
    id_(id),
    loop_(loop),
    tls_(std::move(tls)),
    statuses_(st),
    router_(r) {
  router_.set_owner(*this);
}

peer_manager::~peer_manager() = default;

timespan peer_manager::handshake_timeout() const {
  return seconds_to_timespan(cfg_.options.handshake_timeout);
}

// -- listening ---------------------------------------------------------------------

expected<uint16_t> peer_manager::listen(const std::string& address,
                                        uint16_t port) {
  BROKER_ASSERT(loop_.in_loop_thread());
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
}

void peer_manager::on_arrival(const std::shared_ptr<net::stream>& s) {
  auto cap = cfg_.options.max_pending_connections;
  for (auto& oldest : pending_.admit(s, cap)) {
    auto why = "more than " + std::to_string(cap)
               + " connections in their handshake: dropped the oldest";
    auto i = std::find_if(links_.begin(), links_.end(),
                          [&](auto& l) { return l->conn.stream == oldest; });
    if (i != links_.end()) {
      drop((*i)->conn, ec::peer_timeout, why);
    } else {
      // Still in its TLS handshake: the core has not seen it yet.
      oldest->abort();
      network_info net{oldest->remote_address(), oldest->remote_port(), 0};
      statuses_.emit_error(ec::peer_timeout, endpoint_info{{}, net}, why);
    }
  }
}

void peer_manager::on_accept(expected<std::shared_ptr<net::stream>> s) {
  if (!s) {
    // A connection that failed its TLS handshake (plain peer, untrusted
    // certificate, garbage, stall): only that connection is gone. One we
    // aborted ourselves (shutdown, too many pending) was reported already.
    if (!shutting_down_ && s.error().code() != ec::shutting_down)
      statuses_.emit_error(s.error().code(), endpoint_info{},
                           s.error().message());
    return;
  }
  if (shutting_down_) {
    (*s)->abort();
    return;
  }
  start_connection(std::move(*s), handshake::role::acceptor, nullptr);
}

// -- handshakes --------------------------------------------------------------------

handshake::context peer_manager::make_context(connection& c) {
  handshake::context ctx;
  ctx.self = id_;
  ctx.filter = [this, &c] {
    c.advertised = router_.filter_for(c);
    return c.advertised;
  };
  ctx.redundant = [this, &c](const endpoint_id& peer, bool pending) {
    return is_redundant(peer, pending, &c);
  };
  return ctx;
}

bool peer_manager::is_redundant(const endpoint_id& peer, bool include_pending,
                                const connection* self) const {
  if (router_.is_peered(peer))
    return true;
  if (!include_pending)
    return false;
  for (auto& l : links_) {
    auto& c = l->conn;
    if (&c != self && !c.gone && !c.peered && c.hs.peer()
        && *c.hs.peer() == peer && c.hs.current() != handshake::state::failed)
      return true;
  }
  return false;
}

void peer_manager::start_connection(std::shared_ptr<net::stream> s,
                                    handshake::role r, connector* origin) {
  auto l = std::make_shared<link>(this, r);
  auto& c = l->conn;
  c.stream = std::move(s);
  c.origin = origin;
  if (origin)
    origin->conn = &c;
  c.stream->reject_empty_frames(true);
  links_.insert(l);
  // A peer that never finishes the handshake must not hold the connection
  // (and its file descriptor) forever.
  std::weak_ptr<link> weak = l;
  c.handshake_timer = loop_.schedule(handshake_timeout(), [this, weak] {
    auto lp = weak.lock();
    if (!lp || lp->conn.gone || lp->conn.peered)
      return;
    lp->conn.handshake_timer = 0;
    drop(lp->conn, ec::peer_timeout,
         "no handshake within "
           + std::to_string(cfg_.options.handshake_timeout) + " s");
  });
  c.stream->start(l.get());
  auto step = c.hs.start(make_context(c));
  send_handshake(c, step.out);
}

void peer_manager::send_handshake(connection& c,
                                  const std::vector<bin::handshake_msg>& msgs) {
  for (auto& msg : msgs)
    c.stream->write(bin::handshake_frame(msg));
}

void peer_manager::handle_frame(connection& c,
                                std::span<const std::byte> payload) {
  if (c.gone)
    return;
  if (c.peered)
    router_.handle_envelope(c, payload);
  else
    handle_handshake_frame(c, payload);
}

void peer_manager::handle_handshake_frame(connection& c,
                                          std::span<const std::byte> payload) {
  auto msg = bin::decode_handshake(payload);
  if (!msg) {
    auto code = msg.error().code();
    bool magic = code == ec::wrong_magic_number;
    drop(c, magic ? code : ec::invalid_message,
         magic ? "wrong magic number" : msg.error().message());
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
    bool benign = redundant_code && peer_id && router_.is_peered(*peer_id);
    bool racing = redundant_code && peer_id && !benign
                  && is_redundant(*peer_id, true, &c);
    auto info = info_of(c);
    if (auto* origin = discard(c)) {
      if (benign) {
        adopt_peering(*origin, *peer_id);
        return;
      }
      if (racing) {
        // Both sides dialled at once and the other handshake won. Like real
        // Broker, look again shortly: succeed once it peered, else dial
        // again.
        origin->peer = *peer_id;
        retry_later(*origin, 1ms);
        return;
      }
      on_connect_failed(*origin, err);
    } else if (!benign && !racing) {
      statuses_.emit_error(err.code(), info, err.message());
    }
    return;
  }
  if (c.hs.done())
    on_peered(c);
}

void peer_manager::adopt_peering(connector& origin, const endpoint_id& peer) {
  // The peering exists over another connection. Like real Broker, the
  // address the user asked for takes over that peering when it has none of
  // its own, so that we reconnect if it is lost and unpeer() finds it.
  origin.peer = peer;
  if (auto* existing = router_.peered(peer); existing && !existing->origin) {
    existing->origin = &origin;
    origin.conn = existing;
    origin.ever_peered = true;
  }
  origin.answer(true);
}

void peer_manager::on_peered(connection& c) {
  auto peer = *c.hs.peer();
  if (router_.is_peered(peer)) {
    // Lost a race against another connection to the same peer.
    if (auto* origin = discard(c))
      adopt_peering(*origin, peer);
    return;
  }
  c.peered = true;
  pending_.forget(c.stream);
  if (c.handshake_timer) {
    loop_.cancel(c.handshake_timer);
    c.handshake_timer = 0;
  }
  c.stream->reject_empty_frames(false);
  if (c.origin) {
    c.origin->peer = peer;
    c.origin->ever_peered = true;
  }
  auto info = info_of(c);
  statuses_.emit_status(sc::endpoint_discovered, info,
                        "found a new peer in the network");
  statuses_.emit_status(sc::peer_added, info, "handshake successful");
  router_.add_peer(c);
  if (c.origin)
    c.origin->answer(true);
}

// -- dialling ----------------------------------------------------------------------

void peer_manager::peer(const std::string& address, uint16_t port,
                        double retry, std::function<void(bool)> done) {
  BROKER_ASSERT(loop_.in_loop_thread());
  if (shutting_down_) {
    done(false);
    return;
  }
  if (auto* c = connectors_.find(dial_key{address, port})) {
    c->retry = retry;
    if ((c->conn && c->conn->peered)
        || (c->peer && router_.is_peered(*c->peer)))
      done(true);
    else
      c->waiters.push_back(std::move(done));
    return;
  }
  auto& ref = connectors_.add(address, port, retry);
  ref.waiters.push_back(std::move(done));
  connect(ref);
}

void peer_manager::connect(connector& c) {
  c.timer = 0;
  dial_key key{c.address, c.port};
  net::connect(loop_, c.address, c.port, tls_, handshake_timeout(),
               [this, key](expected<std::shared_ptr<net::stream>> s) {
                 auto* c = connectors_.find(key);
                 if (!c || shutting_down_) {
                   if (s)
                     (*s)->abort();
                   return;
                 }
                 if (!s) {
                   on_connect_failed(*c, s.error());
                   return;
                 }
                 start_connection(std::move(*s), handshake::role::connector,
                                  c);
               });
}

void peer_manager::retry_later(connector& c, timespan delay) {
  dial_key key{c.address, c.port};
  c.timer = loop_.schedule(delay, [this, key] {
    auto* con = connectors_.find(key);
    if (!con || shutting_down_)
      return;
    con->timer = 0;
    // A peering made meanwhile over another connection (a dial race or
    // the peer dialling us) counts as ours.
    if (con->peer && router_.is_peered(*con->peer))
      adopt_peering(*con, *con->peer);
    else
      connect(*con);
  });
}

void peer_manager::on_connect_failed(connector& c, const error& err) {
  c.conn = nullptr;
  endpoint_info ctx;
  if (c.peer)
    ctx.node = *c.peer;
  ctx.network = network_info{c.address, c.port, c.retry};
  statuses_.emit_error(err.code() == ec::none ? ec::peer_unavailable
                                              : err.code(),
                       ctx, err.message());
  c.answer(false);
  if (c.retry > 0 && !shutting_down_ && !c.unpeering)
    retry_later(c, seconds_to_timespan(c.retry));
  else
    connectors_.erase(c);
}

// -- ending ------------------------------------------------------------------------

void peer_manager::drop(connection& c, ec code, const std::string& why) {
  if (c.gone)
    return;
  auto info = info_of(c);
  if (!c.peered)
    c.stream->write(bin::handshake_frame(bin::drop_conn_msg{id_, code, why}));
  statuses_.emit_error(code, info, why);
  c.gone = true;
  c.stream->close();
  on_connection_gone(c, error{code, why});
}

void peer_manager::disconnect(connection& c, const std::string& why) {
  if (c.gone)
    return;
  c.removed_by_us = true;
  c.removal_reason = why;
  statuses_.emit_error(ec::peer_timeout, info_of(c), why);
  c.gone = true;
  c.stream->abort();
  on_connection_gone(c, error{ec::peer_timeout, why});
}

void peer_manager::on_pong(connection& c, std::span<const std::byte> payload) {
  if (auto id = bin::read_bye(payload); id && c.bye_id && *id == *c.bye_id) {
    // The peer has seen everything we sent before the BYE.
    c.gone = true;
    c.stream->close();
    on_connection_gone(c, error{});
  }
}

void peer_manager::handle_closed(connection& c, const error& reason) {
  if (c.gone)
    return;
  c.gone = true;
  // Bytes that are not frames at all (say, a TLS ClientHello sent to a
  // plain port) end a connection we did not dial without a handshake
  // failure to report; say what happened.
  if (!c.peered && !c.origin && reason.code() == ec::invalid_message)
    statuses_.emit_error(reason.code(), info_of(c), reason.message());
  on_connection_gone(c, reason);
}

void peer_manager::on_connection_gone(connection& c, const error& reason) {
  auto info = info_of(c);
  auto* origin = c.origin;
  bool was_peered = c.peered;
  if (was_peered) {
    router_.remove_peer(c);
    if (c.removed_by_us)
      statuses_.emit_status(sc::peer_removed, info,
                            c.removal_reason.empty()
                              ? "removed connection to remote peer"
                              : c.removal_reason);
    else
      statuses_.emit_status(sc::peer_lost, info,
                            "lost connection to remote peer");
    statuses_.emit_status(sc::endpoint_unreachable, info, "lost the last path");
  }
  if (c.bye_timer)
    loop_.cancel(c.bye_timer);
  if (c.handshake_timer)
    loop_.cancel(c.handshake_timer);
  auto after_bye = std::move(c.after_bye);
  remove_connection(c);
  if (after_bye)
    after_bye();
  if (!origin || shutting_down_)
    return;
  origin->conn = nullptr;
  if (origin->unpeering)
    return;
  if (was_peered && origin->retry > 0) {
    // Reconnect at once after losing a peering (golden captures: ~1 ms),
    // later attempts are spaced by `retry`.
    retry_later(*origin, 1ms);
  } else if (was_peered) {
    connectors_.erase(*origin);
  } else {
    on_connect_failed(*origin,
                      reason.code() == ec::none
                        ? error{ec::peer_unavailable, "connection closed"}
                        : reason);
  }
}

connector* peer_manager::discard(connection& c) {
  auto* origin = c.origin;
  c.gone = true;
  c.stream->close();
  remove_connection(c);
  if (origin)
    origin->conn = nullptr;
  return origin;
}

void peer_manager::remove_connection(connection& c) {
  for (auto i = links_.begin(); i != links_.end(); ++i) {
    if (&(*i)->conn != &c)
      continue;
    // Keep the object alive until the current callback returns.
    auto keep = *i;
    links_.erase(i);
    loop_.post([keep] {});
    closing_.add(keep->conn.stream);
    return;
  }
}

void peer_manager::send_bye(connection& c) {
  auto id = ++bye_counter_;
  c.bye_id = id;
  c.removed_by_us = true;
  c.stream->write(bin::envelope_frame(id_, *c.hs.peer(), bin::msg_type::ping,
                                      bin::internal_topic,
                                      bin::bye_payload(id)));
  auto weak = std::weak_ptr<net::stream>(c.stream);
  auto timeout = seconds_to_timespan(cfg_.options.bye_timeout);
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

void peer_manager::unpeer(const std::string& address, uint16_t port,
                          std::function<void(bool)> done) {
  BROKER_ASSERT(loop_.in_loop_thread());
  auto* c = connectors_.find(dial_key{address, port});
  bool found = c != nullptr;
  connection* target = nullptr;
  if (found) {
    c->unpeering = true;
    if (c->timer)
      loop_.cancel(c->timer);
    c->answer(false);
    target = c->conn;
    connectors_.erase(*c);
    if (target)
      target->origin = nullptr;
  } else {
    // An inbound peering, identified by its remote address.
    for (auto& [id, c] : router_.peered())
      if (c->stream->remote_address() == address
          && c->stream->remote_port() == port)
        target = c;
  }
  if (target == nullptr) {
    done(found);
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
}

// -- queries -----------------------------------------------------------------------

std::vector<peer_info> peer_manager::peers() const {
  BROKER_ASSERT(loop_.in_loop_thread());
  std::vector<peer_info> result;
  for (auto& [id, c] : router_.peered()) {
    peer_info info;
    info.peer = info_of(*c);
    info.status = peer_status::peered;
    info.flags = peer_flag_remote
                 | (c->origin ? peer_flag_outbound : peer_flag_inbound);
    result.push_back(std::move(info));
  }
  connectors_.append_unpeered(
    result, [this](const endpoint_id& id) { return router_.is_peered(id); });
  return result;
}

// -- shutdown ----------------------------------------------------------------------

void peer_manager::shutdown(std::function<void()> done) {
  BROKER_ASSERT(loop_.in_loop_thread());
  shutting_down_ = true;
  for (auto& l : listeners_)
    l->close();
  connectors_.cancel_all(loop_);
  on_shutdown_done_ = std::move(done);
  // BYE to every peer; finish when all answered or timed out.
  std::vector<connection*> peers;
  for (auto& [id, c] : router_.peered())
    peers.push_back(c);
  for (auto* c : peers) {
    c->after_bye = [this] {
      if (router_.peered().empty())
        finish_shutdown();
    };
    send_bye(*c);
  }
  if (peers.empty())
    finish_shutdown();
}

void peer_manager::finish_shutdown() {
  if (!on_shutdown_done_)
    return;
  for (auto& l : links_) {
    if (!l->conn.gone) {
      l->conn.gone = true;
      l->conn.stream->close();
    }
  }
  await_flushed(std::chrono::steady_clock::now() + 2s);
}

void peer_manager::await_flushed(std::chrono::steady_clock::time_point deadline) {
  // Closing streams write out what they queued, then close their sockets.
  bool flushed = true;
  for (auto& l : links_)
    if (!l->conn.stream->closed())
      flushed = false;
  // Connections already removed (e.g. after the BYE pong) may still be
  // writing: stopping the loop now would leave their sockets open forever.
  if (!closing_.all_closed())
    flushed = false;
  if (!flushed && std::chrono::steady_clock::now() < deadline) {
    loop_.schedule(1ms, [this, deadline] { await_flushed(deadline); });
    return;
  }
  // Out of time: close what is left rather than leak open sockets.
  closing_.abort_all();
  for (auto& l : links_)
    if (!l->conn.stream->closed())
      l->conn.stream->abort();
  auto done = std::move(on_shutdown_done_);
  on_shutdown_done_ = nullptr;
  if (done)
    done();
}

void peer_manager::clear() {
  links_.clear();
  connectors_.clear();
  listeners_.clear();
}

} // namespace broker::detail
