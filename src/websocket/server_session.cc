#include "websocket/server_session.hh"

#include "broker/zeek.hh"
#include "format/bin/frames.hh"
#include "format/json/message_codec.hh"
#include "websocket/server.hh"
#include "websocket/settings.hh"

namespace broker::websocket {

namespace {

constexpr std::string_view api_path = "/v1/messages/json";

/// §1.2: letters, digits and `- / _ . = : * @`; empty is fine.
bool valid_app_name(std::string_view name) {
  for (unsigned char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_'
              || c == '.' || c == '=' || c == ':' || c == '*' || c == '@';
    if (!ok)
      return false;
  }
  return true;
}

} // namespace

server_session::server_session(server& owner, net::ws_stream_ptr stream,
                               bool events_only)
  : owner_(owner), stream_(std::move(stream)), events_only_(events_only) {
  info_.node = endpoint_id::random();
  info_.type = endpoint_type::web_socket;
  info_.network = network_info{stream_->remote_address(),
                               stream_->remote_port(), 0};
}

server_session::~server_session() = default;

std::string server_session::describe() const {
  // The X-Application-Name label, when the client sent one, is what tells
  // its operator which tool this is (§1.2).
  std::string result = "WebSocket client";
  if (stream_->has_app_name() && !stream_->app_name().empty())
    result += " \"" + stream_->app_name() + "\"";
  return result + " at " + info_.network->address + ":"
         + std::to_string(info_.network->port);
}

void server_session::start() {
  stream_->start(this);
  if (stream_->target() != api_path) {
    send_error("invalid_uri", "Invalid URI - use /v1/messages/json");
    close(net::close_code::policy_error, "Invalid URI");
    return;
  }
  if (stream_->has_app_name() && !valid_app_name(stream_->app_name())) {
    send_error("invalid_application_name", "Invalid X-Application-Name");
    close(net::close_code::policy_error, "Invalid X-Application-Name");
    return;
  }
  // A client that never subscribes holds a slot of the client cap: give it
  // as long as a handshake may take.
  auto& core = owner_.core();
  std::weak_ptr<server_session> weak = shared_from_this();
  subscription_timer_ = core.loop().schedule(
    settings_of(core.config()).handshake_timeout, [weak] {
      if (auto self = weak.lock()) {
        self->subscription_timer_ = 0;
        if (!self->participant_)
          self->close(net::close_code::policy_error, "Subscription timeout");
      }
    });
}

void server_session::on_message(std::string_view text) {
  if (done_)
    return;
  // Keeps us alive through a close() that removes us from the server.
  auto self = shared_from_this();
  if (!participant_)
    on_subscription(text);
  else
    on_data_message(text);
}

void server_session::on_subscription(std::string_view text) {
  auto& core = owner_.core();
  if (subscription_timer_ != 0) {
    core.loop().cancel(subscription_timer_);
    subscription_timer_ = 0;
  }
  auto res = format::json::decode_subscription(text);
  if (auto* err = std::get_if<format::json::api_error>(&res)) {
    send_error(err->code, err->context);
    core.emit_error(ec::deserialization_failed, info_,
                    "WebSocket client sent an invalid subscription: "
                      + err->context);
    close(net::close_code::policy_error, err->context);
    return;
  }
  auto& topics = std::get<std::vector<std::string>>(res);
  detail::participant_hooks hooks;
  // The core calls this only until remove_participant (in leave()), which
  // runs before we go away.
  hooks.on_data = [this](const detail::data_message_ptr& msg, bool) {
    if (wants(msg->value))
      deliver(owner_.encode(msg));
  };
  // A local subscriber our client's message filled holds the client back
  // (0007), as a full native peer does (route_pending).
  hooks.pause_input = [this] {
    held_by_subscriber_ = true;
    update_reading();
  };
  hooks.resume_input = [this] {
    held_by_subscriber_ = false;
    update_reading();
  };
  // Synchronous on the I/O thread: once it returns, our topics are part of
  // the endpoint's subscriptions (and on their way to peers), so the ack
  // may go out (§2.3).
  participant_ = core.add_participant(std::move(topics), std::move(hooks));
  if (!participant_) {
    close(net::close_code::internal_error, "Cannot subscribe");
    return;
  }
  auto ack = std::make_shared<std::string>();
  format::json::encode_ack(core.id().to_string(), owner_.version(), *ack);
  stream_->send(std::move(ack));
  auto who = describe();
  core.emit_status(sc::endpoint_discovered, info_, "found a new " + who);
  core.emit_status(sc::peer_added, info_, "handshake successful with " + who);
}

void server_session::on_written() {
  // The client caught up (half the queue is out): the next drop starts a
  // new episode and is reported again.
  dropping_.written(stream_->queued(),
                    owner_.core().config().options.web_socket_buffer_size);
}

void server_session::on_data_message(std::string_view text) {
  auto& core = owner_.core();
  auto res = format::json::decode_data_message(text);
  if (auto* err = std::get_if<format::json::api_error>(&res)) {
    // §5.2: drop the message, say why, keep the connection.
    send_error(err->code, err->context);
    core.emit_error(ec::deserialization_failed, info_,
                    "WebSocket client sent an invalid message: "
                      + err->context);
    return;
  }
  auto msg = std::make_shared<data_message>(
    std::move(std::get<data_message>(res)));
  auto frame = format::bin::data_frame(core.id(), endpoint_id{},
                                       core.config().options.ttl, msg->topic,
                                       msg->value);
  auto topic = msg->topic;
  pending_ = detail::outgoing_message{std::move(topic), endpoint_id{},
                                      std::move(frame), std::move(msg)};
  route_pending();
}

void server_session::route_pending() {
  // Flow control as for local publishers (0007): while a peer that wants
  // the message is full and may still hold it back, we stop reading from
  // the client (TCP holds it back in turn) and try again when there is
  // room. Past the peer's time, its overflow policy applies and we go on.
  if (done_ || !pending_)
    return;
  std::weak_ptr<server_session> weak = shared_from_this();
  if (!owner_.core().try_route_from(*participant_, *pending_, [weak] {
        if (auto self = weak.lock())
          self->route_pending();
      })) {
    held_by_peer_ = true;
    update_reading();
    return;
  }
  pending_.reset();
  held_by_peer_ = false;
  update_reading();
}

void server_session::update_reading() {
  if (held_by_peer_ || held_by_subscriber_)
    stream_->pause_reading();
  else
    stream_->resume_reading();
}

bool server_session::wants(const data& value) const {
  if (!events_only_)
    return true;
  auto type = zeek::type_of(value);
  return type && *type == zeek::message_type::event;
}

void server_session::deliver(const std::shared_ptr<const std::string>& json) {
  if (done_ || overflowed_)
    return;
  auto& opts = owner_.core().config().options;
  auto limit = opts.web_socket_buffer_size;
  if (stream_->queued() >= limit) {
    auto policy = opts.web_socket_overflow_policy;
    if (policy != overflow_policy::disconnect && dropping_.begins())
      owner_.core().emit_error(
        ec::peer_timeout, info_,
        overflow_report(describe(), limit, "messages", policy));
    switch (opts.web_socket_overflow_policy) {
      case overflow_policy::disconnect: {
        // We run inside the core's delivery loop over participants, which
        // leaving would modify: close right after it instead.
        if (overflowed_)
          return;
        overflowed_ = true;
        std::weak_ptr<server_session> weak = shared_from_this();
        owner_.core().loop().post([weak] {
          if (auto self = weak.lock())
            self->close(net::close_code::internal_error,
                        "Outbound queue overflow");
        });
        return;
      }
      case overflow_policy::drop_newest:
        return;
      case overflow_policy::drop_oldest:
        stream_->drop_oldest_queued();
        break;
    }
  }
  stream_->send(json);
}

void server_session::send_error(std::string_view code,
                                std::string_view context) {
  auto msg = std::make_shared<std::string>();
  format::json::encode_error(code, context, *msg);
  stream_->send(std::move(msg));
}

void server_session::close(uint16_t code, std::string reason) {
  if (done_)
    return;
  auto why = reason;
  stream_->close(code, std::move(reason));
  leave(false, why);
}

void server_session::on_closed(uint16_t code, const std::string& why) {
  leave(true, why);
}

void server_session::leave(bool lost, const std::string& why) {
  if (done_)
    return;
  done_ = true;
  auto self = shared_from_this();
  auto& core = owner_.core();
  if (subscription_timer_ != 0) {
    core.loop().cancel(subscription_timer_);
    subscription_timer_ = 0;
  }
  if (participant_) {
    core.remove_participant(*participant_);
    auto who = describe();
    if (lost)
      core.emit_status(sc::peer_lost, info_, "lost " + who + ": " + why);
    else
      core.emit_status(sc::peer_removed, info_, "removed " + who + ": " + why);
    core.emit_status(sc::endpoint_unreachable, info_, who + " is gone");
  }
  owner_.remove(self);
}

} // namespace broker::websocket
