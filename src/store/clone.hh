#pragma once

// A clone of a data store (wire-protocol.md §6): finds the master by
// asking for a snapshot, keeps an in-memory replica from the master's
// actions, answers queries from it and forwards its own writes to the
// master over a reliable channel (buffered while it has no master).

#include "store/store_actor.hh"

#include <memory>
#include <string>

namespace broker::detail {

struct clone_options {
  /// Seconds without a master after which reads fail with stale_data
  /// (negative: never).
  double stale_interval = -1;
  /// Seconds between attempts to find the master.
  double resync_interval = 1.0;
  /// Seconds a clone buffers writes while it has no master (negative:
  /// forever).
  double mutation_buffer_interval = 120;
};

/// Creates and starts a clone.
std::shared_ptr<store_actor> make_clone(std::shared_ptr<core> c,
                                        std::shared_ptr<store_registry> reg,
                                        std::string name, clone_options opts);

} // namespace broker::detail
