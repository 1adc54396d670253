#include "websocket/client.hh"

#include "broker/topic.hh"
#include "format/bin/frames.hh"
#include "format/json/message_codec.hh"
#include "websocket/settings.hh"

#include <chrono>

namespace broker::websocket {

/// One WebSocket connection of the client and the topics it subscribed.
struct client::link : net::ws_stream::handler {
  client* owner = nullptr;
  net::ws_stream_ptr stream;
  std::vector<std::string> topics;
  bool acked = false;
  bool gone = false;

  void on_message(std::string_view text) override {
    owner->on_link_message(*this, text);
  }

  void on_closed(uint16_t code, const std::string& why) override {
    owner->on_link_closed(*this, code, why);
  }

  void on_written() override {
    // A retiring link closes once everything we sent on it is out.
    if (retiring && !gone && stream->queued() == 0)
      close();
    else
      owner->on_link_written(*this);
  }

  bool retiring = false;

  void close() {
    if (gone)
      return;
    gone = true;
    if (stream)
      stream->close(net::close_code::normal, "");
  }
};

client::client(std::shared_ptr<detail::core> core, std::string url,
               net::ws_url parsed, double retry)
  : core_(std::move(core)), url_(std::move(url)), parsed_(std::move(parsed)),
    retry_(retry) {
  info_.node = endpoint_id::random();
  info_.type = endpoint_type::web_socket;
  info_.network = network_info{url_, parsed_.port, retry_};
  if (parsed_.secure) {
    // wss:// uses the endpoint's TLS settings, as native peering does; an
    // endpoint with disable_ssl has no context yet, so build one here.
    tls_ = core_->tls_context();
    if (!tls_) {
      auto ctx = net::tls_context::make(core_->config());
      if (ctx)
        tls_ = *ctx;
    }
  }
}

client::~client() = default;

void client::start(std::function<void(bool)> done) {
  waiters_.push_back(std::move(done));
  if (parsed_.secure && !tls_) {
    on_attempt_failed("cannot set up TLS for " + url_);
    return;
  }
  detail::participant_hooks hooks;
  // The core calls these only until remove_participant (in stop()), which
  // runs before we go away.
  hooks.on_local_publish = [this](const detail::data_message_ptr& msg) {
    on_local_publish(msg);
  };
  hooks.on_local_topics = [this](const std::vector<std::string>& topics) {
    local_topics_.clear();
    // Internal topics are not the server's business (it would refuse them).
    for (auto& t : topics)
      if (!topic::is_reserved(t))
        local_topics_.push_back(t);
    renew_if_needed();
  };
  // No topics: the server decides what it wants from our publications, and
  // our peers should not send us anything on its behalf.
  participant_ = core_->add_participant({}, std::move(hooks));
  if (!participant_) {
    resolve_waiters(false);
    return;
  }
  connect();
}

void client::connect() {
  if (stopped_ || next_)
    return;
  auto l = std::make_shared<link>();
  l->owner = this;
  l->topics = local_topics_;
  next_ = l;
  auto self = shared_from_this();
  net::ws_connect(core_->loop(), parsed_, tls_, settings_of(core_->config()),
                  [this, self, l](expected<net::ws_stream_ptr> s) {
                    on_connected(l, std::move(s));
                  });
}

void client::on_connected(const std::shared_ptr<link>& l,
                          expected<net::ws_stream_ptr> s) {
  if (!s) {
    if (next_ == l)
      next_ = nullptr;
    if (!stopped_)
      on_attempt_failed(s.error().message());
    return;
  }
  l->stream = *s;
  if (stopped_ || next_ != l) {
    l->close();
    retiring_.push_back(l); // shutdown waits for (or aborts) its Close
    return;
  }
  l->stream->start(l.get());
  auto sub = std::make_shared<std::string>();
  format::json::encode_subscription(l->topics, *sub);
  l->stream->send(std::move(sub));
}

void client::on_link_message(link& l, std::string_view text) {
  if (l.gone)
    return;
  auto self = shared_from_this();
  auto msg = format::json::decode_server_message(text);
  if (!msg) {
    core_->emit_error(ec::deserialization_failed, info_,
                      "invalid message from WebSocket server " + url_ + ": "
                        + msg.error().message());
    return;
  }
  if (!l.acked) {
    if (auto* ack = std::get_if<format::json::api_ack>(&*msg)) {
      l.acked = true;
      for (auto& p : std::vector{next_})
        if (p.get() == &l)
          on_acked(p, ack->endpoint);
      return;
    }
    std::string why = "no ack from WebSocket server " + url_;
    if (auto* err = std::get_if<format::json::api_error>(&*msg))
      why += ": " + err->code + ": " + err->context;
    l.close();
    if (next_.get() == &l) {
      next_ = nullptr;
      on_attempt_failed(why);
    }
    return;
  }
  if (auto* err = std::get_if<format::json::api_error>(&*msg)) {
    // The server refused something we sent.
    core_->emit_error(ec::invalid_message, info_,
                      "WebSocket server " + url_ + " reports " + err->code
                        + ": " + err->context);
    return;
  }
  auto* dm = std::get_if<data_message>(&*msg);
  // A retiring connection's messages still count: until its Close goes
  // out, they may be ones the new connection does not carry.
  if (dm == nullptr || !participant_)
    return; // a second ack
  if (dm->topic.empty() || topic::is_reserved(dm->topic))
    return; // never let a server inject internal traffic
  auto value = std::make_shared<data_message>(std::move(*dm));
  auto frame = format::bin::data_frame(core_->id(), endpoint_id{},
                                       core_->config().options.ttl,
                                       value->topic, value->value);
  auto topic = value->topic;
  core_->route_from(*participant_,
                    detail::outgoing_message{std::move(topic), endpoint_id{},
                                             std::move(frame),
                                             std::move(value)});
}

void client::on_acked(const std::shared_ptr<link>& l,
                      const std::string& endpoint) {
  next_ = nullptr;
  // A renewal switches connections; the endpoint stays connected.
  bool renewal = current_ != nullptr;
  if (current_)
    retire(current_);
  current_ = l;
  // Zeek-hosted servers append "-websocket-<n>" to the node id.
  if (auto id = endpoint_id::parse(endpoint.substr(0, 36)))
    info_.node = *id;
  // What local code published while we had no connection goes out now, in
  // order, before anything newer.
  auto pending = std::move(pending_);
  pending_.clear();
  dropping_.end();
  for (auto& json : pending)
    send(json);
  if (!renewal) {
    core_->emit_status(sc::endpoint_discovered, info_,
                       "found WebSocket server " + url_);
    core_->emit_status(sc::peer_added, info_,
                       "handshake successful with WebSocket server " + url_);
  }
  connected_once_ = true;
  resolve_waiters(true);
  renew_if_needed();
}

void client::retire(const std::shared_ptr<link>& l) {
  // Links we closed report nothing more: forget those whose TCP is gone.
  std::erase_if(retiring_, [](auto& p) {
    return p->gone && (!p->stream || p->stream->finished());
  });
  l->retiring = true;
  if (l->stream && l->stream->queued() == 0)
    l->close();
  // Tracked until its TCP is gone, also when its Close went out at once:
  // shutdown waits for that (finished()) and aborts what is left.
  if (!l->gone || (l->stream && !l->stream->finished()))
    retiring_.push_back(l);
}

void client::on_link_written(link& l) {
  // The server caught up (half the queue is out): the next drop starts a
  // new episode and is reported again.
  if (current_.get() == &l)
    dropping_.written(l.stream->queued(),
                      core_->config().options.web_socket_buffer_size);
}

void client::on_link_closed(link& l, uint16_t code, const std::string& why) {
  l.gone = true;
  auto self = shared_from_this();
  std::erase_if(retiring_, [&](auto& p) { return p.get() == &l; });
  if (stopped_)
    return;
  if (current_.get() == &l) {
    current_ = nullptr;
    dropping_.end(); // what the lost connection dropped was reported
    core_->emit_status(sc::peer_lost, info_,
                       "lost WebSocket server " + url_ + ": " + why);
    core_->emit_status(sc::endpoint_unreachable, info_,
                       "WebSocket server " + url_ + " is unreachable");
    if (next_)
      return; // a renewal under way becomes the reconnection
    schedule_retry();
    return;
  }
  if (next_.get() == &l) {
    next_ = nullptr;
    on_attempt_failed("WebSocket server " + url_ + " closed the connection ("
                      + std::to_string(code) + "): " + why);
  }
}

void client::on_attempt_failed(const std::string& why) {
  core_->emit_error(ec::peer_unavailable, info_,
                    "cannot connect to WebSocket server " + url_ + ": " + why);
  resolve_waiters(false);
  if (!current_)
    schedule_retry();
}

void client::schedule_retry() {
  if (stopped_ || retry_ <= 0 || retry_timer_ != 0)
    return;
  using fsecs = std::chrono::duration<double>;
  auto self = shared_from_this();
  retry_timer_ = core_->loop().schedule(
    std::chrono::duration_cast<timespan>(fsecs{retry_}), [this, self] {
      retry_timer_ = 0;
      if (!current_)
        connect();
    });
}

void client::renew_if_needed() {
  // One renewal at a time; when the topics changed again meanwhile, the
  // next one starts once this is acknowledged (on_acked calls us).
  if (stopped_ || !current_ || next_ || current_->topics == local_topics_)
    return;
  connect();
}

void client::on_local_publish(const detail::data_message_ptr& msg) {
  auto json = std::make_shared<std::string>();
  format::json::encode_data_message(msg->topic, msg->value, *json);
  send(json);
}

void client::send(const std::shared_ptr<const std::string>& json) {
  auto& opts = core_->config().options;
  auto limit = opts.web_socket_buffer_size;
  if (!current_ || current_->gone) {
    // No connection: hold what we can; the oldest goes first when full.
    if (stopped_)
      return;
    if (pending_.size() >= limit) {
      if (dropping_.begins())
        core_->emit_error(ec::peer_unavailable, info_,
                          "no connection to WebSocket server " + url_
                            + ": holding the newest " + std::to_string(limit)
                            + " publications (web_socket_buffer_size), "
                              "dropping the oldest");
      pending_.pop_front();
    }
    pending_.push_back(json);
    return;
  }
  auto& s = *current_->stream;
  if (s.queued() >= limit) {
    auto policy = opts.web_socket_overflow_policy;
    if (policy != overflow_policy::disconnect && dropping_.begins())
      core_->emit_error(ec::peer_timeout, info_,
                        overflow_report("WebSocket server " + url_, limit,
                                        "publications", policy));
    switch (policy) {
      case overflow_policy::disconnect: {
        auto l = current_;
        l->stream->close(net::close_code::internal_error,
                         "Outbound queue overflow");
        l->gone = true;
        on_link_closed(*l, net::close_code::internal_error,
                       "outbound queue overflow");
        return;
      }
      case overflow_policy::drop_newest:
        return;
      case overflow_policy::drop_oldest:
        s.drop_oldest_queued();
        break;
    }
  }
  s.send(json);
}

void client::resolve_waiters(bool ok) {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters)
    w(ok);
}

void client::stop(bool report, std::function<void()> done) {
  if (stopped_) {
    if (done)
      done();
    return;
  }
  stopped_ = true;
  auto self = shared_from_this();
  if (retry_timer_ != 0) {
    core_->loop().cancel(retry_timer_);
    retry_timer_ = 0;
  }
  if (participant_) {
    core_->remove_participant(*participant_);
    participant_.reset();
  }
  resolve_waiters(false);
  if (next_) {
    next_->close();
    next_ = nullptr;
  }
  if (current_) {
    if (report) {
      core_->emit_status(sc::peer_removed, info_,
                         "removed WebSocket server " + url_);
      core_->emit_status(sc::endpoint_unreachable, info_,
                         "WebSocket server " + url_ + " is unreachable");
    }
    // What we sent goes out before our Close.
    retire(current_);
    current_ = nullptr;
  }
  // A server that reads nothing must not keep the connection forever.
  if (!retiring_.empty()) {
    auto timeout = settings_of(core_->config()).handshake_timeout;
    core_->loop().schedule(timeout, [self] {
      for (auto& l : self->retiring_)
        l->close();
    });
  }
  if (done)
    done();
}

void client::abort() {
  for (auto* l : {&current_, &next_})
    if (*l && (*l)->stream)
      (*l)->stream->abort();
  for (auto& l : retiring_)
    if (l->stream)
      l->stream->abort();
}

bool client::finished() const noexcept {
  if (!stopped_)
    return false;
  for (auto& l : retiring_)
    if (!l->gone || (l->stream && !l->stream->finished()))
      return false;
  return true;
}

} // namespace broker::websocket
