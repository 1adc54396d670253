#include "net/acceptor.hh"

namespace broker::net {

expected<uint16_t> bind_acceptor(asio::ip::tcp::acceptor& acc,
                                 const std::string& address, uint16_t port) {
  error_code ec;
  asio::ip::address addr;
  bool dual_stack = address.empty();
  if (dual_stack)
    addr = asio::ip::address_v6::any();
  else {
    addr = asio::ip::make_address(address, ec);
    if (ec) {
      // Not a literal: resolve the name.
      asio::ip::tcp::resolver resolver{acc.get_executor()};
      auto results = resolver.resolve(address, std::to_string(port), ec);
      if (ec || results.empty())
        return error{ec::peer_unavailable,
                     "cannot resolve listen address " + address};
      addr = results.begin()->endpoint().address();
    }
  }
  asio::ip::tcp::endpoint ep{addr, port};
  acc.open(ep.protocol(), ec);
  if (ec && dual_stack) {
    // No IPv6 on this host: fall back to IPv4 only.
    ep = asio::ip::tcp::endpoint{asio::ip::address_v4::any(), port};
    dual_stack = false;
    ec.clear();
    acc.open(ep.protocol(), ec);
  }
  if (!ec) {
    acc.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (dual_stack)
      acc.set_option(asio::ip::v6_only(false), ec);
    ec.clear();
    acc.bind(ep, ec);
  }
  if (!ec)
    acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return error{ec::peer_unavailable, "cannot listen on " + address + ":"
                                         + std::to_string(port) + ": "
                                         + ec.message()};
  return acc.local_endpoint(ec).port();
}

} // namespace broker::net
