// libFuzzer target for WebSocket framing (src/net/ws_*: Beast's frame
// parser, our message handling, size limit, Close handling). Each input is
// the byte stream a client sends after a valid upgrade request, delivered
// over a real loopback connection to a ws_listener whose handler echoes
// every message back; the server must neither crash (ASan/UBSan) nor hang
// (the connection ends once the client stops sending). Slow per input
// (one connection each) but covers the code as it runs in production.

#include "net/loop.hh"
#include "net/ws_listener.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <vector>

using namespace broker;
using namespace std::chrono_literals;

namespace {

struct echo : net::ws_stream::handler {
  net::ws_stream_ptr stream;
  void on_message(std::string_view text) override {
    stream->send(std::make_shared<const std::string>(text));
  }
  void on_closed(uint16_t, const std::string&) override { stream = nullptr; }
};

struct server {
  net::loop loop;
  std::shared_ptr<net::ws_listener> listener;
  std::vector<std::unique_ptr<echo>> handlers;
  uint16_t port = 0;

  server() {
    loop.start();
    std::promise<uint16_t> bound;
    loop.post([&] {
      net::ws_settings settings;
      settings.max_message_size = 64 * 1024;
      settings.ping_interval = timespan{0};
      settings.handshake_timeout = 2s;
      auto l = net::ws_listener::make(
        loop, "127.0.0.1", 0, nullptr, settings, nullptr,
        [this](net::ws_stream_ptr s) {
          // Forget handlers of finished connections as new ones come.
          std::erase_if(handlers, [](auto& h) { return !h->stream; });
          auto h = std::make_unique<echo>();
          h->stream = s;
          s->start(h.get());
          handlers.push_back(std::move(h));
        });
      if (!l) {
        std::fprintf(stderr, "cannot listen: %s\n", l.error().message().c_str());
        std::abort();
      }
      listener = *l;
      bound.set_value(listener->port());
    });
    port = bound.get_future().get();
  }
};

server& the_server() {
  static server* srv = new server; // lives for the process, like libFuzzer's
  return *srv;
}

constexpr char upgrade[] = "GET /v1/messages/json HTTP/1.1\r\n"
                           "Host: 127.0.0.1\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* buf, size_t size) {
  auto& srv = the_server();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(srv.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return 0;
  }
  std::string out{upgrade};
  out.append(reinterpret_cast<const char*>(buf), size);
  size_t sent = 0;
  // Read while writing, so that echoes never block the server.
  auto deadline = std::chrono::steady_clock::now() + 3s;
  char scratch[65536];
  bool write_done = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (write_done ? 0 : POLLOUT)), 0};
    if (::poll(&p, 1, 50) < 0)
      break;
    if (p.revents & POLLOUT) {
      auto n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        write_done = true;
      else if ((sent += static_cast<size_t>(n)) == out.size()) {
        write_done = true;
        ::shutdown(fd, SHUT_WR); // a TCP drop without Close, after the input
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      auto n = ::recv(fd, scratch, sizeof(scratch), 0);
      if (n <= 0)
        break; // the server is done with us
    }
  }
  ::close(fd);
  return 0;
}
