#pragma once

// The master of a data store (wire-protocol.md §5): owns the backend,
// applies every write (its own and its clones'), sends the resulting
// actions to the clones over a reliable channel and answers queries.
//
// Durability (group commit). A SQLite master applies writes inside one
// transaction and commits it when its mailbox has run empty, or after
// actor::flush_interval (5 ms) of continuous work, never on a timer of its
// own. Answers to queries, put_unique and await_idle are held back until
// the commit that covers the writes before them, so a write is durable
// against a crash of the process once any later request on the store was
// answered. See docs/decisions/0003-stores.md.

#include "store/backend.hh"
#include "store/store_actor.hh"

#include <memory>
#include <string>

namespace broker::detail {

/// Opens the backend, then creates and starts a master.
/// Errors: the backend could not be opened.
expected<std::shared_ptr<store_actor>>
make_master(std::shared_ptr<core> c, std::shared_ptr<store_registry> reg,
            std::string name, backend_kind kind, const backend_options& opts);

} // namespace broker::detail
