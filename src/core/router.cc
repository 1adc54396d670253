#include "core/router.hh"

#include "util/assert.hh"

#include "format/bin/frames.hh"
#include "format/bin/overlay_update.hh"
#include "format/bin/value_codec.hh"

#include <algorithm>

namespace broker::detail {

namespace bin = format::bin;

router::router(const configuration& cfg, const endpoint_id& id,
               net::loop& loop, statuses& st, local_consumers& locals,
               publish_queue& pubq)
  : cfg_(cfg),
    id_(id),
    loop_(loop),
    statuses_(st),
    locals_(locals),
    pubq_(pubq),
    overlay_(id) {
}

// -- peers -------------------------------------------------------------------------

connection* router::peered(const endpoint_id& id) const {
  auto i = peered_.find(id);
  return i == peered_.end() ? nullptr : i->second;
}

void router::add_peer(connection& c) {
  BROKER_ASSERT(loop_.in_loop_thread());
  peered_.emplace(*c.hs.peer(), &c);
  c.filter = c.hs.peer_filter();
  publish_reachable();
  // Tell the peer what we are in the overlay (a real Broker answers with a
  // pong and ignores it); our filter may also have grown while the
  // handshake ran.
  send_overlay_update(c, overlay_.own());
  refresh_routing();
}

void router::remove_peer(connection& c) {
  BROKER_ASSERT(loop_.in_loop_thread());
  auto peer = *c.hs.peer();
  peered_.erase(peer);
  locals_.forget(&c);
  if (c.ours && overlay_.remove_neighbour(peer))
    for (auto& [id, other] : peered_)
      if (other->ours)
        send_overlay_update(*other, overlay_.own());
  if (!stopping_)
    refresh_routing();
  publish_reachable();
  // A full peer that went away no longer holds back publishers.
  if (waiting_for_writes_)
    drain_publish_queue();
}

void router::publish_reachable() {
  // Direct peers and, for await_peer, everyone reachable through them.
  std::set<endpoint_id> ids;
  for (auto& [id, c] : peered_)
    ids.insert(id);
  for (auto& id : overlay_.reachable())
    ids.insert(id);
  {
    std::unique_lock guard{reach_mtx_};
    reachable_ = std::move(ids);
  }
  reach_cv_.notify_all();
}

bool router::await_peer(const endpoint_id& node,
                        std::chrono::steady_clock::time_point deadline) {
  std::unique_lock guard{reach_mtx_};
  return reach_cv_.wait_until(guard, deadline, [&] {
    return reachable_.count(node) > 0 || reach_closed_;
  }) && reachable_.count(node) > 0;
}

void router::stop() {
  stopping_ = true;
  {
    std::unique_lock guard{reach_mtx_};
    reach_closed_ = true;
  }
  reach_cv_.notify_all();
}

// -- incoming ----------------------------------------------------------------------

void router::handle_envelope(connection& c, std::span<const std::byte> payload) {
  BROKER_ASSERT(loop_.in_loop_thread());
  auto env = bin::read_envelope(payload);
  if (!env) {
    owner_->drop(c, ec::invalid_message, env.error().message());
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
          statuses_.emit_error(ec::invalid_data, info_of(c),
                               "dropped a message on topic "
                                 + std::string{env->topic} + ": "
                                 + decoded.error().message());
          forward_frame(c, *env, payload);
          return;
        }
        if (!decoded) {
          owner_->drop(c, ec::invalid_message,
                       "malformed data message on topic "
                         + std::string{env->topic} + ": "
                         + decoded.error().message());
          return;
        }
        value = std::move(*decoded);
      }
      bool relayed = forward_frame(c, *env, payload);
      if (to_us) {
        std::string topic{env->topic};
        locals_.deliver_data(topic,
                             message_source{&c, relayed, std::nullopt, false},
                             [&] {
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
        locals_.deliver_command(std::string{env->topic}, env->payload,
                                std::nullopt);
      return;
    case bin::msg_type::routing_update: {
      auto filter = bin::decode_filter(env->payload);
      if (!filter) {
        owner_->drop(c, ec::invalid_message,
                     "malformed routing update: " + filter.error().message());
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
              bin::envelope_frame(id_, *c.hs.peer(), bin::msg_type::pong,
                                  bin::internal_topic, env->payload),
              frame_kind::control);
      return;
    case bin::msg_type::pong:
      owner_->on_pong(c, env->payload);
      return;
    default:
      owner_->drop(c, ec::invalid_message, "unexpected message type");
  }
}

bool router::forward_frame(connection& from, const bin::envelope_view& env,
                           std::span<const std::byte> payload) {
  // Nothing to do for a leaf (the only peer is where it came from): the
  // common case, kept free of routing work.
  if (!cfg_.options.forward || env.receiver == id_ || peered_.size() < 2)
    return false;
  // Among our own endpoints the TTL stops cycles; real Broker sends 16 and
  // never decrements it, so this stays compatible.
  if (env.ttl <= 1)
    return false;
  // The overlay origin: what an endpoint of ours put in the sender field,
  // or us when the message enters the overlay from a real Broker peer.
  // While the overlay has not converged on a new link (we are not yet in
  // the origin's tree), we relay as if it started here: a duplicate in a
  // cycle during those milliseconds is better than a loss.
  auto origin = from.ours ? env.sender : id_;
  if (origin != id_ && !overlay_.in_tree_of(origin))
    origin = id_;
  net::frame_ptr to_ours; // sender field: the origin
  net::frame_ptr to_real; // sender field: us, the last hop
  auto frame_for = [&](connection& c) {
    bool ours = overlay_routed(c);
    auto& f = ours ? to_ours : to_real;
    if (!f)
      f = bin::forwarded_frame(payload, ours ? origin : id_, env.ttl - 1);
    return f;
  };
  if (!env.receiver.is_nil()) {
    if (auto* next = next_hop_to(env.receiver)) {
      if (next == &from)
        return false;
      send_to(*next, frame_for(*next), frame_kind::data);
      return true;
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
  return !targets.empty();
}

// -- flow control ------------------------------------------------------------------

void router::on_written() {
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
  notify_room();
}

bool router::must_wait(const std::vector<connection*>& targets) {
  auto now = std::chrono::steady_clock::now();
  auto grace = seconds_to_timespan(cfg_.options.peer_full_grace);
  auto bound = seconds_to_timespan(cfg_.options.publish_stall_timeout);
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
          notify_room();
        });
    }
    if (now - *c->full_since < (any_room ? grace : bound))
      wait = true;
  }
  return wait;
}

bool router::peer_full(const connection& c) const noexcept {
  return c.stream->queued() >= cfg_.options.peer_buffer_size;
}

void router::send_to(connection& c, net::frame_ptr frame, frame_kind kind) {
  if (c.gone)
    return;
  // Control frames (routing, pongs, overlay updates) are few and small, and
  // losing one would break the peering: they always go in.
  if (kind == frame_kind::data && peer_full(c)) {
    auto policy = cfg_.options.peer_overflow_policy;
    if (policy != overflow_policy::disconnect && !c.dropping) {
      // Once per overflow episode (until the buffer drained to half).
      c.dropping = true;
      statuses_.emit_error(ec::peer_timeout, info_of(c),
                           std::string{"peer buffer full: dropping the "}
                             + (policy == overflow_policy::drop_newest
                                  ? "newest"
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
        owner_->disconnect(c, "caf::sec::backpressure_overflow: the peer's "
                              "buffer of "
                                + std::to_string(cfg_.options.peer_buffer_size)
                                + " messages overflowed");
        return;
    }
  }
  c.stream->write(std::move(frame));
}

// -- publishing --------------------------------------------------------------------

std::vector<connection*> router::targets_of(const outgoing_message& msg) {
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

void router::route_outgoing(const outgoing_message& msg,
                            const std::vector<connection*>& targets) {
  for (auto* c : targets)
    send_to(*c, msg.frame, frame_kind::data);
  if (!msg.receiver.is_nil() && msg.receiver != id_)
    return;
  // Local code's messages go to participants only: skip the envelope
  // unless one wants this topic.
  if (!msg.from && !locals_.participant_wants(msg.topic)
      && !locals_.takes_local_publications())
    return;
  auto env = bin::read_envelope(
    std::span{msg.frame->data() + 4, msg.frame->size() - 4});
  if (!env)
    return;
  if (env->type == bin::msg_type::command) {
    locals_.deliver_command(msg.topic, env->payload, msg.from);
    return;
  }
  message_source from{nullptr, false, msg.from, !msg.from};
  data_message_ptr built; // decoded at most once for all consumers
  auto make = [&]() -> data_message_ptr {
    if (msg.value)
      return msg.value;
    if (!built) {
      auto decoded = bin::decode(env->payload);
      if (!decoded)
        return nullptr; // we encoded it ourselves: cannot happen
      built = std::make_shared<data_message>(
        data_message{msg.topic, std::move(*decoded)});
    }
    return built;
  };
  locals_.deliver_data(msg.topic, from, make);
  if (!msg.from) // WebSocket client mode: see local_consumers.hh
    locals_.deliver_local_publication(make);
}

void router::route_now(const outgoing_message& msg) {
  BROKER_ASSERT(loop_.in_loop_thread());
  if (!stopping_)
    route_outgoing(msg, targets_of(msg));
}

bool router::try_route_now(const outgoing_message& msg) {
  BROKER_ASSERT(loop_.in_loop_thread());
  if (stopping_)
    return true; // dropped like everything else at shutdown
  auto targets = targets_of(msg);
  if (must_wait(targets))
    return false;
  route_outgoing(msg, targets);
  return true;
}

void router::when_room(std::function<void()> f) {
  room_waiters_.push_back(std::move(f));
}

void router::notify_room() {
  if (room_waiters_.empty())
    return;
  auto waiters = std::move(room_waiters_);
  room_waiters_.clear();
  for (auto& f : waiters)
    f();
}

void router::drain_publish_queue() {
  BROKER_ASSERT(loop_.in_loop_thread());
  waiting_for_writes_ = false;
  // Works in batches: one lock per batch, and the targets of a run of
  // messages on the same topic are computed once.
  constexpr size_t max_batch = 1024;
  std::vector<connection*> targets;
  for (auto batch = pubq_.take(max_batch); !batch.empty();
       batch = pubq_.take(max_batch)) {
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
        pubq_.put_back(std::move(batch));
        waiting_for_writes_ = true;
        return; // on_written or a timer resumes
      }
      route_outgoing(item, targets);
      batch.pop_front();
    }
  }
}

// -- filters and the overlay -------------------------------------------------------

filter_type router::local_filter() const {
  auto result = locals_.filter();
  result.insert(result.end(), forwards_.begin(), forwards_.end());
  return normalize_filter(std::move(result));
}

void router::add_forwards(filter_type topics) {
  forwards_.insert(forwards_.end(), topics.begin(), topics.end());
  forwards_ = normalize_filter(std::move(forwards_));
  refresh_routing();
}

filter_type router::filter_for(const connection& c) {
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

connection* router::next_hop_to(const endpoint_id& node) {
  if (auto* c = peered(node))
    return c;
  if (auto hop = overlay_.next_hop_to(node))
    return peered(*hop);
  return nullptr;
}

bool router::gets(const connection& c, const std::vector<endpoint_id>& hops,
                  std::string_view topic) const {
  if (overlay_routed(c))
    return std::find(hops.begin(), hops.end(), *c.hs.peer()) != hops.end();
  return filter_matches(c.filter, topic);
}

bool router::overlay_routed(const connection& c) const noexcept {
  return c.ours && c.hs.peer() && overlay_.linked(*c.hs.peer());
}

void router::refresh_routing() {
  BROKER_ASSERT(loop_.in_loop_thread());
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
  publish_reachable();
}

void router::update_filters() {
  // Real Broker only announces growth; a shrinking filter is not sent.
  for (auto& [id, c] : peered_) {
    auto filter = filter_for(*c);
    bool grew = std::any_of(filter.begin(), filter.end(), [&](auto& t) {
      return !filter_matches(c->advertised, t);
    });
    if (!grew)
      continue;
    filter.insert(filter.end(), c->advertised.begin(), c->advertised.end());
    c->advertised = normalize_filter(std::move(filter));
    bin::byte_buffer payload;
    bin::encode_filter(c->advertised, payload);
    send_to(*c,
            bin::envelope_frame(id_, id, bin::msg_type::routing_update,
                                bin::internal_topic, payload),
            frame_kind::control);
  }
}

void router::send_overlay_update(connection& c, const overlay::update& u) {
  bin::byte_buffer payload;
  bin::encode(u, payload);
  send_to(c,
          bin::envelope_frame(id_, *c.hs.peer(), bin::msg_type::ping,
                              bin::internal_topic, payload),
          frame_kind::control);
}

void router::handle_overlay_update(connection& c,
                                   std::span<const std::byte> payload) {
  auto update = bin::decode_overlay_update(payload);
  if (!update) {
    owner_->drop(c, ec::invalid_message, update.error().message());
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

// -- queries -----------------------------------------------------------------------

std::vector<std::string> router::peer_subscriptions() const {
  filter_type all;
  for (auto& [id, c] : peered_)
    all.insert(all.end(), c->filter.begin(), c->filter.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

bool router::peer_subscribed_exactly(const std::string& topic) {
  for (auto& [id, c] : peered_)
    for (auto& t : c->filter)
      if (t == topic)
        return true;
  return overlay_.wanted_exactly_elsewhere(topic);
}

} // namespace broker::detail
