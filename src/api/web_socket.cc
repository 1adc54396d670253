// The endpoint's WebSocket JSON API members: facades over src/websocket
// (the server and the client connections), which run on the core's I/O
// thread.
#include "broker/endpoint.hh"

#include "core/core.hh"
#include "net/ws_connector.hh"
#include "websocket/blocking.hh"
#include "websocket/client.hh"
#include "websocket/server.hh"

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

namespace broker {

expected<uint16_t> endpoint::web_socket_listen(const std::string& address,
                                               uint16_t port,
                                               bool events_only) {
  std::shared_ptr<websocket::server> srv;
  {
    std::lock_guard guard{ws_mtx_};
    if (core_->stopped())
      return error{ec::shutting_down, "endpoint is shut down"};
    if (!ws_server_)
      ws_server_ = std::make_shared<websocket::server>(core_);
    srv = ws_server_;
  }
  return srv->listen(address, port, events_only);
}

bool endpoint::web_socket_peer(const std::string& url, double retry) {
  auto parsed = net::parse_ws_url(url);
  if (!parsed)
    throw std::invalid_argument(parsed.error().message());
  std::shared_ptr<websocket::client> c;
  {
    std::lock_guard guard{ws_mtx_};
    if (core_->stopped())
      return false;
    if (ws_clients_.count(url))
      return true;
    c = std::make_shared<websocket::client>(core_, url, *parsed, retry);
    ws_clients_.emplace(url, c);
  }
  auto done = std::make_shared<std::promise<bool>>();
  auto fut = done->get_future();
  // Only the first outcome counts; later ones are statuses.
  auto fired = std::make_shared<bool>(false);
  core_->loop().post([c, done, fired] {
    c->start([done, fired](bool ok) {
      if (!*fired) {
        *fired = true;
        done->set_value(ok);
      }
    });
  });
  auto ok = core_->await(fut).value_or(false);
  if (!ok && retry <= 0) {
    // Nothing will try again: forget it, so a later call starts afresh.
    {
      std::lock_guard guard{ws_mtx_};
      if (auto i = ws_clients_.find(url);
          i != ws_clients_.end() && i->second == c)
        ws_clients_.erase(i);
    }
    stop_web_socket_client(c, false);
  }
  return ok;
}

void endpoint::stop_web_socket_client(std::shared_ptr<websocket::client> c,
                                      bool report) {
  websocket::run_on_loop(*core_, [this, &c, report] {
    c->stop(report, nullptr);
    // Kept until its connections are gone; those already gone go now.
    std::lock_guard guard{ws_mtx_};
    std::erase_if(ws_stopping_, [](auto& s) { return s->finished(); });
    if (!c->finished())
      ws_stopping_.push_back(std::move(c));
    return true;
  });
}

bool endpoint::web_socket_unpeer(const std::string& url) {
  std::shared_ptr<websocket::client> c;
  {
    std::lock_guard guard{ws_mtx_};
    auto i = ws_clients_.find(url);
    if (i == ws_clients_.end())
      return false;
    c = i->second;
    ws_clients_.erase(i);
  }
  stop_web_socket_client(std::move(c), true);
  return true;
}

void endpoint::start_web_socket_from_env() {
  // Real Broker serves the WebSocket API on this port when it is set.
  auto* env = std::getenv("BROKER_WEB_SOCKET_PORT");
  if (env == nullptr || *env == '\0')
    return;
  char* end = nullptr;
  auto port = std::strtoul(env, &end, 10);
  if (*end != '\0' || port > 65535) {
    core_->report_error(ec::invalid_data,
                        std::string{"BROKER_WEB_SOCKET_PORT is not a port: "}
                          + env);
    return;
  }
  auto res = web_socket_listen("", static_cast<uint16_t>(port));
  if (!res)
    core_->report_error(res.error().code(),
                        "BROKER_WEB_SOCKET_PORT: " + res.error().message());
}

void endpoint::shutdown_web_socket() {
  std::shared_ptr<websocket::server> srv;
  std::vector<std::shared_ptr<websocket::client>> clients;
  {
    std::lock_guard guard{ws_mtx_};
    srv = std::move(ws_server_);
    for (auto& [url, c] : ws_clients_)
      clients.push_back(c);
    ws_clients_.clear();
    clients.insert(clients.end(), ws_stopping_.begin(), ws_stopping_.end());
    ws_stopping_.clear();
  }
  if (srv)
    srv->shutdown();
  if (clients.empty() || core_->stopped())
    return;
  // Clients first flush what local code published, then close; wait for
  // that briefly (the core's shutdown stops the loop).
  using namespace std::chrono_literals;
  websocket::run_on_loop(*core_, [&] {
    for (auto& c : clients)
      c->stop(false, nullptr); // a no-op for those stopped before
    return true;
  });
  auto deadline = std::chrono::steady_clock::now() + 1s;
  for (;;) {
    auto done = websocket::run_on_loop(*core_, [&] {
      bool all = true;
      for (auto& c : clients)
        all = all && c->finished();
      // Released on the I/O thread, where they live; past the deadline,
      // their sockets close now rather than when the loop is destroyed.
      if (!all && std::chrono::steady_clock::now() >= deadline)
        for (auto& c : clients)
          c->abort();
      if (all || std::chrono::steady_clock::now() >= deadline)
        clients.clear();
      return clients.empty();
    });
    if (!done || *done)
      return;
    std::this_thread::sleep_for(5ms);
  }
}

} // namespace broker
