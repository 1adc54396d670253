#pragma once

// Boost.Asio under the short name the net layer uses. Private to src/net
// (and its white-box tests): the layers above never see Asio. Boost.Asio
// rather than standalone Asio because Boost.Beast, which speaks the
// WebSocket protocol for us, is built on it.

// Boost 1.74's awaitable.hpp uses std::exchange without including
// <utility>, which breaks in C++20 mode unless it came first.
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace broker::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

} // namespace broker::net
