#include "net/ws_connector.hh"

#include "net/asio.hh"
#include "net/ws_stream_impl.hh"

#include <boost/beast/http.hpp>
#include <openssl/ssl.h>

#include <charconv>

namespace broker::net {

expected<ws_url> parse_ws_url(const std::string& url) {
  auto bad = [&](const char* why) {
    return error{ec::invalid_data, "invalid WebSocket URL " + url + ": " + why};
  };
  ws_url result;
  std::string_view rest{url};
  if (rest.starts_with("ws://")) {
    rest.remove_prefix(5);
  } else if (rest.starts_with("wss://")) {
    result.secure = true;
    rest.remove_prefix(6);
  } else {
    return bad("scheme must be ws:// or wss://");
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  result.target = slash == std::string_view::npos ? "/"
                                                  : std::string{rest.substr(slash)};
  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return bad("unterminated IPv6 literal");
    result.host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':')
        return bad("junk after the IPv6 literal");
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    result.host = authority.substr(0, colon);
    if (colon != std::string_view::npos)
      port_text = authority.substr(colon + 1);
  }
  if (result.host.empty())
    return bad("no host");
  result.port = result.secure ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, err] = std::from_chars(port_text.data(),
                                      port_text.data() + port_text.size(),
                                      value);
    if (err != std::errc{} || end != port_text.data() + port_text.size()
        || value == 0 || value > 65535)
      return bad("invalid port");
    result.port = static_cast<uint16_t>(value);
  }
  return result;
}

namespace {

using connect_fn = std::function<void(expected<ws_stream_ptr>)>;

template <class Next>
void client_upgrade(std::shared_ptr<ws_stream_impl<Next>> conn,
                    const ws_url& url, std::string target, connect_fn f) {
  auto host = url.host.find(':') != std::string::npos ? "[" + url.host + "]"
                                                      : url.host;
  host += ":" + std::to_string(url.port);
  conn->ws().async_handshake(
    host, target,
    [conn, target, f = std::move(f)](error_code err) {
      if (err) {
        conn->abort();
        f(error{ec::peer_unavailable, "WebSocket upgrade of " + target
                                        + " failed: " + err.message()});
        return;
      }
      beast::get_lowest_layer(conn->ws()).expires_never();
      conn->configure();
      f(ws_stream_ptr{conn});
    });
}

} // namespace

void ws_connect(loop& owner, const ws_url& url, tls_context_ptr tls,
                ws_settings settings, connect_fn f) {
  auto& ctx = *static_cast<asio::io_context*>(owner.native_handle());
  if (url.secure && !tls) {
    f(error{ec::invalid_data, "wss:// needs a TLS context"});
    return;
  }
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(ctx);
  auto where = url.host + ":" + std::to_string(url.port);
  resolver->async_resolve(
    url.host, std::to_string(url.port),
    [&ctx, resolver, url, tls, settings, where,
     f = std::move(f)](error_code err,
                       asio::ip::tcp::resolver::results_type results) mutable {
      if (err) {
        f(error{ec::peer_unavailable,
                "cannot resolve " + where + ": " + err.message()});
        return;
      }
      auto sock = std::make_shared<asio::ip::tcp::socket>(ctx);
      asio::async_connect(
        *sock, results,
        [sock, url, tls, settings, where,
         f = std::move(f)](error_code err2, const auto& ep) mutable {
          if (err2) {
            f(error{ec::peer_unavailable,
                    "cannot connect to " + where + ": " + err2.message()});
            return;
          }
          error_code ignored;
          sock->set_option(asio::ip::tcp::no_delay{true}, ignored);
          auto addr = ep.address().to_string();
          if (!url.secure) {
            auto conn = std::make_shared<ws_stream_impl<plain_next>>(
              settings, rebind(std::move(*sock)));
            conn->set_remote(addr, ep.port());
            beast::get_lowest_layer(conn->ws()).expires_after(
              settings.handshake_timeout);
            client_upgrade(conn, url, url.target, std::move(f));
            return;
          }
          auto& ssl_ctx = *static_cast<asio::ssl::context*>(
            tls->native_handle());
          auto conn = std::make_shared<
            ws_stream_impl<tls_next>>(
            settings, rebind(std::move(*sock)), ssl_ctx);
          conn->set_remote(addr, ep.port());
          // SNI, for servers that pick a certificate by name.
          SSL_set_tlsext_host_name(conn->ws().next_layer().native_handle(),
                                   url.host.c_str());
          beast::get_lowest_layer(conn->ws()).expires_after(
            settings.handshake_timeout);
          conn->ws().next_layer().async_handshake(
            asio::ssl::stream_base::client,
            [conn, url, where, f = std::move(f)](error_code err3) mutable {
              if (err3) {
                conn->abort();
                f(error{ec::peer_unavailable, "TLS handshake with " + where
                                                + " failed: "
                                                + err3.message()});
                return;
              }
              client_upgrade(conn, url, url.target, std::move(f));
            });
        });
    });
}

} // namespace broker::net
