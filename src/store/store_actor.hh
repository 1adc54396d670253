#pragma once

// What masters and clones share (wire-protocol.md §5, §6): the store's
// thread (actor.hh), requests from API handles, the link to the core, store
// events and await_idle waiters. The state machines themselves are in
// master.hh and clone.hh.
//
// Threads. Every request is a closure posted to the store's thread; the
// state is touched there only, so it needs no lock. Mutations return once
// queued (waiting only while the mailbox is full); queries wait for their
// answer until a deadline and then fail with ec::request_timeout. The
// mailbox is FIFO, so a query sees every mutation posted before it.
// Commands from peers arrive on the core's I/O thread and are posted too.

#include "broker/data.hh"
#include "broker/expected.hh"
#include "core/core.hh"
#include "format/bin/store_command.hh"
#include "store/actor.hh"
#include "store/backend.hh"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace broker::detail {

class store_registry;

using format::bin::command_variant;
using format::bin::entity;
using format::bin::store_command;

/// Topic of local store events (insert, update, erase, expire); the API's
/// broker::store_events_topic names the same.
inline constexpr const char* store_event_topic = "<$>/local/data/store-events";

/// Ticks between keepalives and cumulative acks on store channels (the
/// golden capture's cadence).
inline constexpr uint16_t heartbeat_ticks = 5;

/// Orders entities for std::map keys.
struct entity_less {
  bool operator()(const entity& x, const entity& y) const noexcept {
    return std::tie(x.endpoint, x.object) < std::tie(y.endpoint, y.object);
  }
};

class store_actor {
public:
  using clock = std::chrono::steady_clock;

  /// How long a query waits for its answer: real Broker's
  /// `timeout::frontend`.
  static constexpr auto request_timeout = std::chrono::seconds{10};

  /// How long await_idle() waits without a timeout: real Broker's
  /// `defaults::store::await_idle_timeout`.
  static constexpr auto await_idle_timeout = std::chrono::seconds{15};

  store_actor(std::shared_ptr<core> c, std::shared_ptr<store_registry> reg,
              std::string name);
  virtual ~store_actor();

  store_actor(const store_actor&) = delete;
  store_actor& operator=(const store_actor&) = delete;

  /// Starts the thread, joins the core as a participant on the store's
  /// topic and starts the tick timer.
  void start();

  /// Stops taking requests, leaves the core, runs what is queued
  /// (for up to `request_timeout`), answers whoever still waits and joins
  /// the thread. Idempotent. Every subclass calls it first thing in its
  /// destructor, before its members go away.
  void stop();

  const std::string& name() const noexcept { return name_; }

  virtual bool is_master() const noexcept = 0;

  // -- requests from API handles (thread-safe, never on the store's thread) -

  expected<data> get(data key, clock::time_point deadline);
  expected<data> get_index(data key, data index, clock::time_point deadline);
  expected<bool> exists(data key, clock::time_point deadline);
  expected<data> keys(clock::time_point deadline);
  expected<bool> put_unique(data key, data value,
                            std::optional<timespan> expiry,
                            clock::time_point deadline);

  /// @returns whether every mutation so far is applied everywhere this store
  /// knows of by `deadline` (false as well when the store stopped).
  bool await_idle(clock::time_point deadline);

  /// Queues a mutation. Waits until `deadline` only while the mailbox is
  /// full. Errors: ec::shutting_down (detached, endpoint shut down),
  /// ec::request_timeout (still full at the deadline).
  expected<none> mutate(command_variant action, clock::time_point deadline);

protected:
  template <class T>
  using reply_fn = std::function<void(T)>;

  // All below run on the store's thread.
  virtual void on_command(store_command cmd) = 0;
  virtual void on_tick() = 0;
  virtual void on_start() {}
  /// Answers outstanding requests when the store stops.
  virtual void on_stop() {}
  virtual backend& state() = 0;
  virtual expected<none> readable() const { return none{}; }
  virtual void do_mutate(command_variant action) = 0;
  virtual void do_put_unique(data key, data value,
                             std::optional<timespan> expiry, uint64_t req_id,
                             reply_fn<expected<bool>> cb)
    = 0;
  virtual bool idle() const = 0;
  /// Makes batched writes durable (a master's group commit).
  virtual void commit() {}
  /// Whether answers must wait for `commit()`: they must not tell a caller
  /// about a write that a crash could still undo.
  virtual bool uncommitted() const { return false; }

  /// Answers a request now, or after the next commit when there are
  /// uncommitted writes.
  void answer(std::function<void()> fn);

  void send(const std::string& topic, const endpoint_id& receiver,
            const store_command& cmd);
  void emit_event(data event);
  bool events_wanted() const noexcept {
    return events_wanted_->load(std::memory_order_relaxed);
  }
  void report(ec code, std::string message);
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
  std::shared_ptr<store_registry> registry_;
  std::string name_;
  entity self_;     // the store actor (object id 9 in real Broker)
  entity frontend_; // requesters such as put_unique (object id 10)
  actor actor_;
  uint64_t next_req_id_ = 1;

private:
  /// Runs `query` on the store's thread; it answers through its argument.
  template <class T, class Query>
  expected<T> ask(clock::time_point deadline, Query query);

  /// ec::shutting_down when the store or the endpoint stopped.
  std::optional<error> refusal() const;

  void on_flush();
  void schedule_tick();

  std::optional<participant_id> participant_;
  /// True while a local subscriber listens to store events (so stores skip
  /// building them).
  std::shared_ptr<const std::atomic<bool>> events_wanted_;
  std::vector<std::pair<clock::time_point, reply_fn<bool>>> idle_waiters_;
  std::vector<std::function<void()>> deferred_answers_;
  std::atomic<bool> stopped_{false};
  /// How long callers spin for an answer before they sleep (shared by
  /// all callers: it measures how quickly this store answers).
  adaptive_spin answer_spin_;
  std::mutex stop_mtx_;
};

/// Keeps a master or clone running while store handles hold it: the last
/// one to let go stops the actor.
struct store_lease {
  std::shared_ptr<store_actor> actor;
  ~store_lease() { actor->stop(); }
};

} // namespace broker::detail
