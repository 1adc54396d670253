#pragma once

// The stores of one endpoint. Owned by the endpoint and shared with its
// store actors:
//
// - a name has at most one master here; a second attach_master gets
//   another handle of it, and a new master of that name may start only
//   once the old one has stopped (unsubscribed and committed);
// - object ids of store entities (9, 11, ... as in real Broker: a store is
//   entity `id`, its frontend requests come from `id + 1`);
// - every running master and clone, so that the endpoint's shutdown can stop
//   them (commit, answer waiters) while the core still runs.

#include "broker/expected.hh"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace broker::detail {

class store_actor;
struct store_lease;

class store_registry {
public:
  using actor_ptr = std::shared_ptr<store_actor>;

  /// A master's lease: the running master `name`, or a new one made by
  /// `make` while no other attach of `name` can interleave.
  /// @returns ec::master_exists while an earlier master of this name is
  /// still stopping, ec::shutting_down after stop_all(), or the error of
  /// `make`.
  expected<std::shared_ptr<store_lease>>
  attach_master(const std::string& name,
                const std::function<expected<actor_ptr>()>& make);

  /// Starts tracking a clone. @returns its lease (after stop_all(), of a
  /// stopped clone, whose calls fail with ec::shutting_down).
  std::shared_ptr<store_lease> attach_clone(actor_ptr clone);

  /// Called by a master once it has stopped: the name is free again.
  void release_master(const std::string& name);

  /// A fresh object id for a store entity on this endpoint.
  uint64_t next_object_id() noexcept { return next_object_id_ += 2; }

  /// Stops every store still running and refuses new ones (endpoint
  /// shutdown). Later requests on their handles fail with
  /// ec::shutting_down.
  void stop_all();

private:
  void track(const actor_ptr& x);

  std::mutex mtx_;
  // A master's entry lives from its attach until it has stopped; the lease
  // expires earlier, when the last handle goes.
  std::map<std::string, std::weak_ptr<store_lease>> masters_;
  std::vector<std::weak_ptr<store_actor>> actors_;
  bool closed_ = false;
  std::atomic<uint64_t> next_object_id_{7};
};

} // namespace broker::detail
