#include "store/store_registry.hh"

#include "store/store_actor.hh"

namespace broker::detail {

void store_registry::track(const actor_ptr& x) {
  // Forget stores that are gone, so the list does not grow with every
  // attach/reset cycle.
  std::erase_if(actors_, [](auto& w) { return w.expired(); });
  actors_.push_back(x);
}

expected<std::shared_ptr<store_lease>>
store_registry::attach_master(const std::string& name,
                              const std::function<expected<actor_ptr>()>& make) {
  std::lock_guard guard{mtx_};
  if (closed_)
    return error{ec::shutting_down, "endpoint is shut down"};
  if (auto i = masters_.find(name); i != masters_.end()) {
    // Attached here already: another handle of the same master, as in real
    // Broker (whatever backend this call asks for).
    if (auto lease = i->second.lock())
      return lease;
    return error{ec::master_exists,
                 "this endpoint is still closing its master for store "
                   + name};
  }
  auto actor = make();
  if (!actor)
    return actor.error();
  auto lease = std::make_shared<store_lease>(std::move(*actor));
  masters_.emplace(name, lease);
  track(lease->actor);
  return lease;
}

std::shared_ptr<store_lease> store_registry::attach_clone(actor_ptr clone) {
  std::unique_lock guard{mtx_};
  if (closed_) {
    guard.unlock();
    clone->stop();
  } else {
    track(clone);
  }
  return std::make_shared<store_lease>(std::move(clone));
}

void store_registry::release_master(const std::string& name) {
  std::lock_guard guard{mtx_};
  masters_.erase(name);
}

void store_registry::stop_all() {
  std::vector<actor_ptr> running;
  {
    std::lock_guard guard{mtx_};
    closed_ = true;
    for (auto& w : actors_)
      if (auto x = w.lock())
        running.push_back(std::move(x));
  }
  // Outside the lock: a stopping master releases its name here.
  for (auto& x : running)
    x->stop();
}

} // namespace broker::detail
