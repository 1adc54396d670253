#pragma once

// Runs a function on a test's I/O loop and returns its result, for the
// net tests that set up and tear down streams from the test thread.

#include "net/loop.hh"

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>

namespace broker::test {

/// `f()` run on `l`'s thread. Throws (failing the test) if the loop has
/// not run it within 30 s: a stuck loop must not hang the suite. The
/// promise is shared so that a late run after that finds it alive.
template <class F>
auto on_loop(net::loop& l, F f) {
  using result = decltype(f());
  auto p = std::make_shared<std::promise<result>>();
  auto fut = p->get_future();
  l.post([p, f = std::move(f)]() mutable { p->set_value(f()); });
  if (fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    throw std::runtime_error("the I/O loop did not run a task within 30 s");
  return fut.get();
}

} // namespace broker::test
