// TLS streams over loopback on a real event loop: a frame crosses an
// anonymous TLS connection, TLS against plain fails on both ends, a stalled
// handshake times out, and bad settings are refused by name. Run under
// ASan/UBSan by ./run-tests.
#include "net/loop.hh"
#include "net/stream.hh"
#include "net/tcp.hh"
#include "net/tls.hh"

#include "net/on_loop.hh"

#include <gtest/gtest.h>

#include "net/asio.hh"

#include <chrono>
#include <cstring>
#include <future>

using namespace broker;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Collects frames and the close reason of one stream.
struct recorder : net::stream::handler {
  std::promise<std::string> first_frame;
  bool got_frame = false;
  void on_frame(std::span<const std::byte> payload) override {
    if (!got_frame) {
      got_frame = true;
      first_frame.set_value(
        std::string{reinterpret_cast<const char*>(payload.data()),
                    payload.size()});
    }
  }
  void on_closed(const error&) override {}
};

net::frame_ptr frame_of(const std::string& text) {
  auto f = std::make_shared<std::vector<std::byte>>(4 + text.size());
  auto n = static_cast<uint32_t>(text.size());
  (*f)[0] = std::byte(n >> 24);
  (*f)[1] = std::byte(n >> 16);
  (*f)[2] = std::byte(n >> 8);
  (*f)[3] = std::byte(n);
  std::memcpy(f->data() + 4, text.data(), text.size());
  return f;
}

using test::on_loop;

net::tls_context_ptr anonymous() {
  auto ctx = net::tls_context::make(configuration{});
  EXPECT_TRUE(ctx) << ctx.error().message();
  return *ctx;
}

struct tls_fixture : ::testing::Test {
  net::loop l;
  std::shared_ptr<net::listener> srv;
  std::promise<expected<std::shared_ptr<net::stream>>> accepted;
  std::promise<expected<std::shared_ptr<net::stream>>> dialled;
  std::vector<std::shared_ptr<net::stream>> keep;

  void SetUp() override { l.start(); }

  void TearDown() override {
    on_loop(l, [&] {
      for (auto& s : keep)
        s->abort();
      if (srv)
        srv->close();
      return true;
    });
    l.stop();
  }

  uint16_t listen(net::tls_context_ptr ctx, timespan timeout = 5s) {
    return on_loop(l, [&] {
      auto res = net::listener::make(
        l, "127.0.0.1", 0, ctx, timeout, nullptr,
        [this](expected<std::shared_ptr<net::stream>> s) {
          if (s)
            keep.push_back(*s);
          accepted.set_value(std::move(s));
        });
      EXPECT_TRUE(res);
      srv = *res;
      return srv->port();
    });
  }

  void dial(uint16_t port, net::tls_context_ptr ctx, timespan timeout = 5s) {
    l.post([this, port, ctx, timeout] {
      net::connect(l, "127.0.0.1", port, ctx, timeout,
                   [this](expected<std::shared_ptr<net::stream>> s) {
                     if (s)
                       keep.push_back(*s);
                     dialled.set_value(std::move(s));
                   });
    });
  }
};

} // namespace

TEST_F(tls_fixture, frame_crosses_anonymous_tls) {
  auto port = listen(anonymous());
  dial(port, anonymous());
  auto client = dialled.get_future().get();
  auto server = accepted.get_future().get();
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE(server) << server.error().message();
  recorder rec;
  auto got = rec.first_frame.get_future();
  on_loop(l, [&] {
    EXPECT_TRUE((*client)->secure());
    (*server)->start(&rec);
    (*client)->start(&rec);
    (*client)->write(frame_of("over TLS"));
    return true;
  });
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.get(), "over TLS");
  on_loop(l, [&] {
    (*server)->abort();
    (*client)->abort();
    return true;
  });
}

TEST_F(tls_fixture, tls_client_against_plain_server_fails) {
  auto port = listen(nullptr);
  dial(port, anonymous());
  auto server = accepted.get_future().get();
  ASSERT_TRUE(server);
  // The plain side answers the ClientHello with a frame the client cannot
  // take for TLS.
  on_loop(l, [&] {
    (*server)->write(frame_of("not TLS at all"));
    return true;
  });
  auto fut = dialled.get_future();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  auto client = fut.get();
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code(), ec::peer_unavailable);
  EXPECT_NE(client.error().message().find("TLS handshake"), std::string::npos);
}

TEST_F(tls_fixture, plain_client_against_tls_server_fails) {
  auto port = listen(anonymous());
  dial(port, nullptr);
  auto client = dialled.get_future().get();
  ASSERT_TRUE(client);
  on_loop(l, [&] {
    (*client)->write(frame_of("hello in plain text"));
    return true;
  });
  auto fut = accepted.get_future();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  auto server = fut.get();
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code(), ec::peer_unavailable);
}

TEST_F(tls_fixture, stalled_handshake_times_out) {
  auto port = listen(anonymous(), 200ms);
  asio::io_context io;
  asio::ip::tcp::socket silent{io};
  silent.connect({asio::ip::make_address("127.0.0.1"), port});
  auto fut = accepted.get_future();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  auto server = fut.get();
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code(), ec::peer_timeout);
}

TEST(tls_context, missing_files_are_refused_by_name) {
  configuration cfg;
  cfg.certificate_file = "/nonexistent/cert.pem";
  cfg.key_file = "/nonexistent/key.pem";
  cfg.ca_file = "/nonexistent/ca.pem";
  auto ctx = net::tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_NE(ctx.error().message().find("openssl_certificate"),
            std::string::npos);
  EXPECT_NE(ctx.error().message().find("/nonexistent/cert.pem"),
            std::string::npos);
}

TEST(tls_context, authentication_needs_key_and_ca) {
  configuration cfg;
  cfg.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  auto ctx = net::tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_NE(ctx.error().message().find("openssl_key"), std::string::npos);
}
