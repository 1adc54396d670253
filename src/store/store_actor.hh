#pragma once

// Master and clone state machines of a data store (wire-protocol.md §5,
// §6). Each runs on its own thread (actor.hh) and talks to peers through
// the core's command sinks: the master listens on `<name>/<$>/data/master`,
// clones on `<name>/<$>/data/clone`.

#include "broker/data.hh"
#include "broker/expected.hh"
#include "broker/store.hh"
#include "core/core.hh"
#include "format/bin/store_command.hh"
#include "store/actor.hh"
#include "store/backend.hh"
#include "store/channel.hh"

#include <functional>
#include <mutex>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace broker::detail {

using format::bin::command_variant;
using format::bin::entity;
using format::bin::store_command;

/// Orders entities for std::map keys.
struct entity_less {
  bool operator()(const entity& x, const entity& y) const noexcept {
    return std::tie(x.endpoint, x.object) < std::tie(y.endpoint, y.object);
  }
};

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

class store_actor {
public:
  using get_callback = std::function<void(expected<data>)>;
  using bool_callback = std::function<void(expected<bool>)>;

  store_actor(std::shared_ptr<core> c, std::string name);
  virtual ~store_actor();

  /// Starts the thread, the command sink and the tick timer.
  void start();

  /// Removes the sink and joins the thread. Idempotent. Every subclass
  /// calls it first thing in its destructor, before its members go away.
  void stop();

  const std::string& name() const noexcept { return name_; }

  virtual bool is_master() const noexcept = 0;

  // -- requests from frontends (thread-safe) -----------------------------------

  void get(data key, get_callback cb);
  void get_index(data key, data index, get_callback cb);
  void exists(data key, bool_callback cb);
  void keys(get_callback cb);
  void mutate(command_variant action);
  void put_unique(data key, data value, std::optional<timespan> expiry,
                  bool_callback cb);
  void await_idle(std::chrono::steady_clock::time_point deadline,
                  std::function<void(bool)> cb);

protected:
  // All below run on the actor's thread.
  virtual void on_command(store_command cmd) = 0;
  virtual void on_tick() = 0;
  virtual void on_start() {}
  /// Answers outstanding requests when the store is detached.
  virtual void on_stop() {}
  virtual backend& state() = 0;
  virtual expected<none> readable() const { return none{}; }
  /// Runs before a query is answered (under the store mutex): a master
  /// commits what it has batched, so a write followed by an answered read
  /// survives a crash of the process.
  virtual void before_answer() {}
  virtual void do_mutate(command_variant action) = 0;
  virtual void do_put_unique(data key, data value,
                             std::optional<timespan> expiry, uint64_t req_id,
                             bool_callback cb)
    = 0;
  virtual bool idle() const = 0;
  virtual void before_idle_check() {}

  void send(const std::string& topic, const endpoint_id& receiver,
            const store_command& cmd);
  void emit_event(data event);
  void insert_or_update_event(const data& key, const std::optional<data>& old,
                              const data& value,
                              std::optional<timespan> expiry,
                              const entity& publisher);
  void erase_event(const data& key, const entity& publisher);
  void expire_event(const data& key, const entity& publisher);
  void check_idle_waiters();

  std::string master_topic() const { return name_ + "/<$>/data/master"; }
  std::string clone_topic() const { return name_ + "/<$>/data/clone"; }

  std::shared_ptr<core> core_;
  std::string name_;
  entity self_;     // the store actor (object id 9 in real Broker)
  entity frontend_; // requesters such as put_unique (object id 10)
  actor actor_;
  std::optional<participant_id> participant_;
  /// Whether a local subscriber listens to store events (so stores skip
  /// building them).
  std::shared_ptr<const std::atomic<bool>> events_wanted_;
  bool events_wanted() const noexcept {
    return events_wanted_->load(std::memory_order_relaxed);
  }
  uint64_t next_req_id_ = 1;
  std::vector<std::pair<std::chrono::steady_clock::time_point,
                        std::function<void(bool)>>>
    idle_waiters_;
  bool stopped_ = false;
  std::mutex stop_mtx_;
  /// Guards all state: taken by API callers and by the store's thread.
  mutable std::mutex mtx_;

private:
  void schedule_tick();
};

/// Keeps a master or clone running while store handles hold it: the last
/// one to let go stops the actor.
struct store_lease {
  std::shared_ptr<store_actor> actor;
  ~store_lease() { actor->stop(); }
};

/// Creates, starts and returns a master. Errors: the backend could not be
/// opened.
expected<std::shared_ptr<store_actor>>
make_master(std::shared_ptr<core> c, std::string name, backend_type type,
            const backend_options& opts);

/// Creates, starts and returns a clone.
std::shared_ptr<store_actor> make_clone(std::shared_ptr<core> c,
                                        std::string name, clone_options opts);

} // namespace broker::detail
