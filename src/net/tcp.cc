#include "net/tcp.hh"

#include "net/acceptor.hh"
#include "net/asio.hh"

namespace broker::net {

namespace {

asio::io_context& ctx_of(loop& l) {
  return *static_cast<asio::io_context*>(l.native_handle());
}

} // namespace

struct listener::impl {
  explicit impl(asio::io_context& ctx) : acceptor(ctx) {}
  asio::ip::tcp::acceptor acceptor;
  loop* owner = nullptr;
};

listener::~listener() {
  close();
}

expected<std::shared_ptr<listener>>
listener::make(loop& owner, const std::string& address, uint16_t port,
               tls_context_ptr tls, timespan tls_timeout, arrival_fn arrived,
               accept_fn f) {
  std::shared_ptr<listener> result{new listener};
  result->impl_ = std::make_unique<impl>(ctx_of(owner));
  result->impl_->owner = &owner;
  result->on_accept_ = std::move(f);
  result->on_arrival_ = std::move(arrived);
  result->tls_ = std::move(tls);
  result->tls_timeout_ = tls_timeout;
  result->self_ = result;
  auto bound = bind_acceptor(result->impl_->acceptor, address, port);
  if (!bound)
    return bound.error();
  result->port_ = *bound;
  result->do_accept();
  return result;
}

void listener::admit(std::shared_ptr<stream> s) {
  if (on_arrival_)
    on_arrival_(s);
  if (s->closed()) // refused on arrival
    return;
  if (!tls_) {
    on_accept_(std::move(s));
    return;
  }
  // The handshake runs while we accept others; a peer that stalls it costs
  // one socket until the timeout, nothing else.
  std::weak_ptr<listener> weak = self_;
  s->start_tls(tls_, stream::tls_role::server, tls_timeout_,
               [weak, s](const error& e) {
                 auto l = weak.lock();
                 if (!l || !l->impl_->acceptor.is_open()) {
                   s->abort();
                   return;
                 }
                 if (e.code() != ec::none)
                   l->on_accept_(e);
                 else
                   l->on_accept_(s);
               });
}

void listener::do_accept() {
  auto self = self_.lock();
  impl_->acceptor.async_accept(
    [this, self](const error_code& err, asio::ip::tcp::socket sock) {
      if (!impl_->acceptor.is_open())
        return;
      if (!err)
        admit(stream::make(*impl_->owner, &sock));
      // Transient accept errors (EMFILE, ECONNABORTED) must not stop us.
      do_accept();
    });
}

void listener::close() {
  if (impl_ && impl_->acceptor.is_open()) {
    error_code ec;
    impl_->acceptor.close(ec);
  }
}

void connect(loop& owner, const std::string& host, uint16_t port,
             tls_context_ptr tls, timespan tls_timeout,
             std::function<void(expected<std::shared_ptr<stream>>)> f) {
  auto& ctx = ctx_of(owner);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(ctx);
  auto target = host + ":" + std::to_string(port);
  // Resolve synchronously for literals (no blocking), asynchronously else.
  resolver->async_resolve(
    host, std::to_string(port),
    [&owner, &ctx, resolver, tls = std::move(tls), tls_timeout,
     f = std::move(f), target](
      const error_code& err,
      asio::ip::tcp::resolver::results_type results) mutable {
      if (err) {
        f(error{ec::peer_unavailable,
                "cannot resolve " + target + ": " + err.message()});
        return;
      }
      auto sock = std::make_shared<asio::ip::tcp::socket>(ctx);
      asio::async_connect(
        *sock, results,
        [&owner, sock, tls, tls_timeout, f = std::move(f),
         target](const error_code& err2, const auto&) mutable {
          if (err2) {
            f(error{ec::peer_unavailable,
                    "cannot connect to " + target + ": " + err2.message()});
            return;
          }
          auto s = stream::make(owner, sock.get());
          if (!tls) {
            f(std::move(s));
            return;
          }
          s->start_tls(tls, stream::tls_role::client, tls_timeout,
                       [s, f = std::move(f)](const error& e) {
                         if (e.code() != ec::none)
                           f(e);
                         else
                           f(s);
                       });
        });
    });
}

} // namespace broker::net
