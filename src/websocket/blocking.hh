#pragma once

// Running work on the core's I/O thread from an API thread and waiting for
// its result, without hanging when a shutdown stops the thread first.

#include "core/core.hh"

#include <future>
#include <memory>
#include <optional>

namespace broker::websocket {

/// Runs `f` on the I/O thread (directly when already on it) and waits.
/// @returns its result, or nullopt when the loop stopped before it ran.
template <class F>
auto run_on_loop(detail::core& core, F f) -> std::optional<decltype(f())> {
  using result_type = decltype(f());
  if (core.loop().in_loop_thread())
    return f();
  // Shared with the posted work: a discarded task refers to nothing gone.
  auto prom = std::make_shared<std::promise<result_type>>();
  auto fut = prom->get_future();
  auto task = std::make_shared<F>(std::move(f));
  core.loop().post([prom, task] { prom->set_value((*task)()); });
  return core.await(fut);
}

} // namespace broker::websocket
