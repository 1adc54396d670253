#include "websocket/server.hh"

#include "format/json/message_codec.hh"
#include "websocket/blocking.hh"
#include "websocket/settings.hh"

#include <chrono>
#include <thread>

namespace broker::websocket {

server::server(std::shared_ptr<detail::core> core)
  : core_(std::move(core)), version_(BROKER_VERSION_STRING) {}

expected<uint16_t> server::listen(const std::string& address, uint16_t port,
                                  bool events_only) {
  if (core_->stopped())
    return error{ec::shutting_down, "endpoint is shut down"};
  auto self = shared_from_this();
  auto res = run_on_loop(*core_, [&]() -> expected<uint16_t> {
    if (stopping_)
      return error{ec::shutting_down, "endpoint is shutting down"};
    auto& cfg = core_->config();
    auto max_clients = cfg.options.web_socket_max_clients;
    auto l = net::ws_listener::make(
      core_->loop(), address, port, core_->tls_context(), settings_of(cfg),
      [this, self, max_clients] {
        return !stopping_ && sessions_.size() < max_clients;
      },
      [this, self, events_only](net::ws_stream_ptr s) {
        accept(std::move(s), events_only);
      });
    if (!l)
      return l.error();
    listeners_.push_back(*l);
    return (*l)->port();
  });
  if (!res)
    return error{ec::shutting_down, "endpoint is shut down"};
  return *res;
}

void server::accept(net::ws_stream_ptr s, bool events_only) {
  // The cap counts finished upgrades; a burst can overshoot it by the
  // connections in their upgrade at once, which the handshake timeout
  // bounds.
  if (stopping_ || sessions_.size()
                     >= core_->config().options.web_socket_max_clients) {
    s->close(net::close_code::going_away, "Too many clients");
    return;
  }
  auto session = std::make_shared<server_session>(*this, std::move(s),
                                                  events_only);
  sessions_.insert(session);
  session->start();
}

std::shared_ptr<const std::string>
server::encode(const detail::data_message_ptr& msg) {
  if (msg != last_msg_) {
    auto json = std::make_shared<std::string>();
    format::json::encode_data_message(msg->topic, msg->value, *json);
    last_msg_ = msg;
    last_json_ = std::move(json);
  }
  return last_json_;
}

void server::remove(const std::shared_ptr<server_session>& s) {
  sessions_.erase(s);
  std::erase_if(draining_, [](auto& d) { return d->finished(); });
  if (!s->finished() && !stopping_)
    draining_.push_back(s);
  if (sessions_.empty()) {
    // Nobody may get the cached message again: let it go.
    last_msg_ = nullptr;
    last_json_ = nullptr;
  }
}

void server::shutdown() {
  if (core_->stopped())
    return;
  using namespace std::chrono_literals;
  auto started = run_on_loop(*core_, [this] {
    stopping_ = true;
    for (auto& l : listeners_)
      l->close();
    listeners_.clear();
    closing_.assign(sessions_.begin(), sessions_.end());
    for (auto& s : closing_)
      s->close(net::close_code::going_away, "Terminating");
    closing_.insert(closing_.end(), draining_.begin(), draining_.end());
    draining_.clear();
    return true;
  });
  if (!started)
    return;
  // Give the Close frames a moment to go out (the core's shutdown stops
  // the loop, which would drop them); a client that reads nothing does
  // not hold us up for more than that.
  auto deadline = std::chrono::steady_clock::now() + 1s;
  for (;;) {
    auto done = run_on_loop(*core_, [&] {
      bool all = true;
      for (auto& s : closing_)
        all = all && s->finished();
      // Sessions are released on the I/O thread, where they live; past
      // the deadline, their sockets close now rather than when the loop is
      // destroyed.
      if (!all && std::chrono::steady_clock::now() >= deadline)
        for (auto& s : closing_)
          s->abort();
      if (all || std::chrono::steady_clock::now() >= deadline)
        closing_.clear();
      return closing_.empty();
    });
    if (!done || *done)
      return;
    std::this_thread::sleep_for(5ms);
  }
}

} // namespace broker::websocket
