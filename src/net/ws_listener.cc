#include "net/ws_listener.hh"

#include "net/acceptor.hh"
#include "net/asio.hh"
#include "net/ws_stream_impl.hh"

#include <boost/beast/http.hpp>

namespace broker::net {

namespace {

namespace http = beast::http;

/// The request header of the upgrade is all we read: a bound on what a
/// client can make us buffer before it is a WebSocket client.
constexpr uint32_t max_request_header = 16 * 1024;

std::pair<std::string, uint16_t> remote_of(const asio::ip::tcp::socket& s) {
  error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec)
    return {"", 0};
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  return {addr.to_string(), ep.port()};
}

/// Reads the HTTP request and completes the upgrade; hands the connection
/// to `accept` on success and drops it otherwise (a client that is no
/// WebSocket client has nobody to tell).
template <class Next>
void upgrade(std::shared_ptr<ws_stream_impl<Next>> conn,
             ws_listener::accept_fn accept) {
  auto parser = std::make_shared<http::request_parser<http::empty_body>>();
  parser->header_limit(max_request_header);
  auto buf = std::make_shared<beast::flat_buffer>();
  auto& ws = conn->ws();
  http::async_read(
    ws.next_layer(), *buf, *parser,
    [conn, parser, buf, accept = std::move(accept)](error_code err,
                                                    size_t) mutable {
      if (err) {
        conn->abort();
        return;
      }
      auto req = parser->release();
      auto app = req.find("X-Application-Name");
      bool has_app = app != req.end();
      conn->set_request(std::string{req.target()}, has_app,
                        has_app ? std::string{app->value()} : std::string{});
      auto& ws = conn->ws();
      ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) {
          res.set(http::field::server, "broker");
        }));
      // Beast answers a request that is no upgrade with 400 and fails here.
      ws.async_accept(req, [conn, accept = std::move(accept)](error_code err) {
        if (err) {
          conn->abort();
          return;
        }
        beast::get_lowest_layer(conn->ws()).expires_never();
        conn->configure();
        accept(conn);
      });
    });
}

} // namespace

struct ws_listener::impl {
  explicit impl(asio::io_context& ctx) : acceptor(ctx) {}
  asio::ip::tcp::acceptor acceptor;
  tls_context_ptr tls;
  ws_settings settings;
  admit_fn admit;
  accept_fn accept;
};

ws_listener::ws_listener() = default;

ws_listener::~ws_listener() {
  close();
}

expected<std::shared_ptr<ws_listener>>
ws_listener::make(loop& owner, const std::string& address, uint16_t port,
                  tls_context_ptr tls, ws_settings settings, admit_fn admit,
                  accept_fn accept) {
  std::shared_ptr<ws_listener> result{new ws_listener};
  auto& ctx = *static_cast<asio::io_context*>(owner.native_handle());
  result->impl_ = std::make_unique<impl>(ctx);
  result->impl_->tls = std::move(tls);
  result->impl_->settings = settings;
  result->impl_->admit = std::move(admit);
  result->impl_->accept = std::move(accept);
  auto bound = bind_acceptor(result->impl_->acceptor, address, port);
  if (!bound)
    return bound.error();
  result->port_ = *bound;
  result->do_accept();
  return result;
}

void ws_listener::do_accept() {
  auto self = shared_from_this();
  impl_->acceptor.async_accept([this, self](error_code err,
                                            asio::ip::tcp::socket sock) {
    if (!impl_->acceptor.is_open())
      return;
    if (!err && impl_->admit && !impl_->admit())
      sock.close(err);
    else if (!err) {
      error_code ignored;
      sock.set_option(asio::ip::tcp::no_delay{true}, ignored);
      auto [addr, rport] = remote_of(sock);
      auto& st = impl_->settings;
      if (impl_->tls) {
        auto& ssl_ctx = *static_cast<asio::ssl::context*>(
          impl_->tls->native_handle());
        auto conn = std::make_shared<
          ws_stream_impl<tls_next>>(
          st, rebind(std::move(sock)), ssl_ctx);
        conn->set_remote(addr, rport);
        beast::get_lowest_layer(conn->ws()).expires_after(
          st.handshake_timeout);
        conn->ws().next_layer().async_handshake(
          asio::ssl::stream_base::server,
          [conn, accept = impl_->accept](error_code err) {
            if (err)
              conn->abort(); // plaintext client, bad certificate, timeout
            else
              upgrade(conn, accept);
          });
      } else {
        auto conn = std::make_shared<ws_stream_impl<plain_next>>(
          st, rebind(std::move(sock)));
        conn->set_remote(addr, rport);
        beast::get_lowest_layer(conn->ws()).expires_after(
          st.handshake_timeout);
        upgrade(conn, impl_->accept);
      }
    }
    // Transient accept errors (EMFILE, ECONNABORTED) must not stop us.
    do_accept();
  });
}

void ws_listener::close() {
  if (impl_ && impl_->acceptor.is_open()) {
    error_code ec;
    impl_->acceptor.close(ec);
  }
}

} // namespace broker::net
