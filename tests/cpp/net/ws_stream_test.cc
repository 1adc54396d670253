// WebSocket connections over loopback on a real event loop: messages both
// ways, plain and TLS, the Close handshake, the inbound size limit, the
// PING deadline, and URL parsing. Run under ASan/UBSan by ./run-tests.
#include "net/loop.hh"
#include "net/tls.hh"
#include "net/ws_connector.hh"
#include "net/ws_listener.hh"

#include "net/on_loop.hh"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <thread>
#include <mutex>

using namespace broker;
using namespace std::chrono_literals;

namespace {

// Records what one connection sees; the test thread waits on it.
struct recorder : net::ws_stream::handler {
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<std::string> messages;
  int close_code = 0;
  std::string close_why;

  void on_message(std::string_view text) override {
    std::lock_guard guard{mtx};
    messages.emplace_back(text);
    cv.notify_all();
  }

  void on_closed(uint16_t code, const std::string& why) override {
    std::lock_guard guard{mtx};
    close_code = code;
    close_why = why;
    cv.notify_all();
  }

  std::optional<std::string> next(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock guard{mtx};
    if (!cv.wait_for(guard, timeout, [&] { return !messages.empty(); }))
      return std::nullopt;
    auto result = std::move(messages.front());
    messages.pop_front();
    return result;
  }

  int await_close(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock guard{mtx};
    cv.wait_for(guard, timeout, [&] { return close_code != 0; });
    return close_code;
  }
};

using test::on_loop;

net::ws_message_ptr text(std::string str) {
  return std::make_shared<const std::string>(std::move(str));
}

struct ws_fixture : ::testing::Test {
  net::loop l;
  std::shared_ptr<net::ws_listener> srv;
  std::mutex mtx;
  std::condition_variable cv;
  net::ws_stream_ptr server_side;
  std::optional<expected<net::ws_stream_ptr>> client_side;
  recorder server_rec;
  recorder client_rec;
  net::ws_settings settings;
  bool start_server_side = true;

  void SetUp() override { l.start(); }

  void TearDown() override {
    on_loop(l, [&] {
      if (server_side)
        server_side->abort();
      if (client_side && *client_side)
        (**client_side)->abort();
      if (srv)
        srv->close();
      return true;
    });
    l.stop();
  }

  uint16_t listen(net::tls_context_ptr ctx = nullptr) {
    return on_loop(l, [&] {
      auto res = net::ws_listener::make(
        l, "127.0.0.1", 0, ctx, settings, nullptr,
        [this](net::ws_stream_ptr s) {
          if (start_server_side)
            s->start(&server_rec);
          std::lock_guard guard{mtx};
          server_side = s;
          cv.notify_all();
        });
      EXPECT_TRUE(res) << res.error().message();
      srv = *res;
      return srv->port();
    });
  }

  /// Connects and starts the client side; @returns it or nullptr.
  net::ws_stream_ptr dial(const std::string& url,
                          net::tls_context_ptr ctx = nullptr,
                          bool start = true) {
    auto parsed = net::parse_ws_url(url);
    EXPECT_TRUE(parsed);
    l.post([this, p = *parsed, ctx, start] {
      net::ws_connect(l, p, ctx, settings,
                      [this, start](expected<net::ws_stream_ptr> s) {
                        if (s && start)
                          (*s)->start(&client_rec);
                        std::lock_guard guard{mtx};
                        client_side = std::move(s);
                        cv.notify_all();
                      });
    });
    std::unique_lock guard{mtx};
    cv.wait_for(guard, 5s, [&] { return client_side.has_value(); });
    if (!client_side || !*client_side)
      return nullptr;
    cv.wait_for(guard, 5s, [&] { return server_side != nullptr; });
    return **client_side;
  }
};

TEST_F(ws_fixture, messages_cross_both_ways) {
  auto port = listen();
  auto client = dial("ws://127.0.0.1:" + std::to_string(port)
                     + "/v1/messages/json");
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server_side, nullptr);
  EXPECT_EQ(server_side->target(), "/v1/messages/json");
  EXPECT_FALSE(server_side->has_app_name());
  EXPECT_FALSE(server_side->secure());
  l.post([&] { client->send(text("[\"a\"]")); });
  EXPECT_EQ(server_rec.next(), "[\"a\"]");
  l.post([&] {
    server_side->send(text("one"));
    server_side->send(text("two"));
  });
  EXPECT_EQ(client_rec.next(), "one");
  EXPECT_EQ(client_rec.next(), "two");
}

TEST_F(ws_fixture, a_burst_arrives_whole_and_in_order) {
  // Queued in one handler: the coalescing layer writes them together.
  auto port = listen();
  auto client = dial("ws://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_NE(client, nullptr);
  constexpr int n = 5000;
  l.post([&] {
    for (int i = 0; i < n; ++i)
      server_side->send(text("message " + std::to_string(i)));
  });
  for (int i = 0; i < n; ++i) {
    auto got = client_rec.next();
    ASSERT_TRUE(got) << "after " << i;
    ASSERT_EQ(*got, "message " + std::to_string(i));
  }
}

TEST_F(ws_fixture, a_peer_that_reads_nothing_backs_up_into_the_queue) {
  // The layer under Beast buffers only up to its high-water mark: the
  // rest stays in the stream's queue, where the overflow policy sees it.
  auto port = listen();
  auto client = dial("ws://127.0.0.1:" + std::to_string(port) + "/",
                     nullptr, false); // never reads
  ASSERT_NE(client, nullptr);
  std::string big(64 * 1024, 'x');
  constexpr size_t n = 1000; // 64 MB: far beyond socket buffers
  l.post([&] {
    for (size_t i = 0; i < n; ++i)
      server_side->send(text(big));
  });
  size_t queued = n;
  for (int i = 0; i < 50; ++i) { // settles within a second or so
    std::this_thread::sleep_for(20ms);
    queued = on_loop(l, [&] { return server_side->queued(); });
  }
  EXPECT_GT(queued, n / 2);
}

TEST_F(ws_fixture, close_is_echoed_with_the_same_code) {
  auto port = listen();
  auto client = dial("ws://127.0.0.1:" + std::to_string(port) + "/x?y=1");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(server_side->target(), "/x?y=1");
  l.post([&] { server_side->close(net::close_code::policy_error, "bye"); });
  EXPECT_EQ(client_rec.await_close(), 1008);
}

TEST_F(ws_fixture, oversized_message_closes_with_1009) {
  settings.max_message_size = 16;
  auto port = listen();
  auto client = dial("ws://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_NE(client, nullptr);
  l.post([&] { client->send(text("small")); });
  EXPECT_EQ(server_rec.next(), "small");
  l.post([&] { client->send(text(std::string(17, 'x'))); });
  EXPECT_EQ(server_rec.await_close(), 1009);
  EXPECT_EQ(client_rec.await_close(), 1009);
}

TEST_F(ws_fixture, silent_peer_hits_the_ping_deadline) {
  settings.ping_interval = 100ms;
  auto port = listen();
  // Never reading, the client never answers our PINGs.
  auto client = dial("ws://127.0.0.1:" + std::to_string(port) + "/", nullptr,
                     false);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(server_rec.await_close(), 1011);
  EXPECT_EQ(server_rec.close_why, "Ping timeout");
}

TEST_F(ws_fixture, answering_peer_stays_connected_past_pings) {
  settings.ping_interval = 50ms;
  auto port = listen();
  auto client = dial("ws://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_NE(client, nullptr);
  std::this_thread::sleep_for(400ms); // eight PING rounds
  EXPECT_EQ(server_rec.close_code, 0);
  l.post([&] { client->send(text("alive")); });
  EXPECT_EQ(server_rec.next(), "alive");
}

TEST_F(ws_fixture, tls_round_trip) {
  auto ctx = net::tls_context::make(configuration{});
  ASSERT_TRUE(ctx);
  auto port = listen(*ctx);
  auto client = dial("wss://127.0.0.1:" + std::to_string(port)
                       + "/v1/messages/json",
                     *ctx);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->secure());
  l.post([&] { client->send(text("secret")); });
  EXPECT_EQ(server_rec.next(), "secret");
}

TEST_F(ws_fixture, plain_client_on_tls_listener_fails_fast) {
  auto ctx = net::tls_context::make(configuration{});
  ASSERT_TRUE(ctx);
  auto port = listen(*ctx);
  auto start = std::chrono::steady_clock::now();
  auto client = dial("ws://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(client, nullptr);
  ASSERT_TRUE(client_side.has_value());
  EXPECT_FALSE(*client_side);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(ws_url, parses_the_forms_in_use) {
  auto u = net::parse_ws_url("ws://127.0.0.1:27759/v1/messages/json");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->secure);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 27759);
  EXPECT_EQ(u->target, "/v1/messages/json");
  u = net::parse_ws_url("wss://[::1]/v1/messages/json");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->secure);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 443);
  u = net::parse_ws_url("ws://example.org");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_FALSE(net::parse_ws_url("http://x/"));
  EXPECT_FALSE(net::parse_ws_url("ws://:80/"));
  EXPECT_FALSE(net::parse_ws_url("ws://x:0/"));
  EXPECT_FALSE(net::parse_ws_url("ws://x:70000/"));
  EXPECT_FALSE(net::parse_ws_url("ws://[::1/"));
}

} // namespace
