#include "store/store_actor.hh"

#include "store/memory_backend.hh"
#include "store/sqlite_backend.hh"

#include "format/bin/frames.hh"
#include "format/bin/value_codec.hh"

#include <future>

namespace broker::detail {

namespace bin = format::bin;
using namespace std::chrono_literals;

namespace {

constexpr auto tick_interval = 100ms;
constexpr uint16_t heartbeat_ticks = 5;

timespan to_timespan(double secs) {
  return std::chrono::duration_cast<timespan>(
    std::chrono::duration<double>(secs));
}

std::optional<timestamp> absolute(std::optional<timespan> rel) {
  if (!rel)
    return std::nullopt;
  return std::chrono::time_point_cast<timespan>(std::chrono::system_clock::now())
         + *rel;
}

data expiry_data(std::optional<timespan> x) {
  return x ? data{*x} : data{};
}

data publisher_data(const entity& e) {
  return data{vector{data{e.endpoint.to_string()}, data{count{e.object}}}};
}

} // namespace

// -- store_actor ------------------------------------------------------------------

store_actor::store_actor(std::shared_ptr<core> c, std::string name)
  : core_(std::move(c)),
    name_(std::move(name)),
    events_wanted_(core_->watch_interest(store_events_topic)) {
  self_ = entity{core_->id(), core_->next_object_id()};
  frontend_ = entity{core_->id(), self_.object + 1};
}

store_actor::~store_actor() {
  stop();
}

void store_actor::start() {
  actor_.start();
  auto topic = is_master() ? master_topic() : clone_topic();
  // The sink runs on the I/O thread. Decoding there would block it on big
  // snapshots: hand the bytes to the store's thread. Raw `this` is safe:
  // stop() removes the sink (synchronously) and joins the thread before
  // anything is destroyed.
  participant_hooks hooks;
  hooks.on_command = [this](command_message msg) {
    actor_.post([this, msg = std::move(msg)] {
      auto cmd = bin::decode_store_command(msg.payload);
      if (!cmd) {
        core_->report_error(ec::invalid_message,
                            "store " + name_ + ": malformed command: "
                              + cmd.error().message());
        return;
      }
      std::lock_guard guard{mtx_};
      on_command(std::move(*cmd));
    });
  };
  participant_ = core_->add_participant({topic}, std::move(hooks));
  actor_.post([this] {
    std::lock_guard guard{mtx_};
    on_start();
  });
  schedule_tick();
}

void store_actor::schedule_tick() {
  actor_.schedule(std::chrono::steady_clock::now() + tick_interval, [this] {
    {
      std::lock_guard guard{mtx_};
      on_tick();
      check_idle_waiters();
    }
    schedule_tick();
  });
}

void store_actor::stop() {
  std::unique_lock stop_guard{stop_mtx_};
  {
    std::lock_guard guard{mtx_};
    if (stopped_)
      return;
    stopped_ = true;
  }
  if (is_master())
    core_->release_master(name_);
  if (participant_) {
    core_->remove_participant(*participant_);
    participant_.reset();
  }
  actor_.stop();
  // Answer whoever still waits, so no caller blocks forever.
  std::lock_guard guard{mtx_};
  for (auto& w : idle_waiters_)
    w.second(false);
  idle_waiters_.clear();
  on_stop();
}

void store_actor::send(const std::string& topic, const endpoint_id& receiver,
                       const store_command& cmd) {
  bin::byte_buffer buf;
  bin::encode(cmd, buf);
  if (!participant_)
    return;
  std::vector<outgoing_message> msgs;
  msgs.push_back({topic, receiver,
                  format::bin::command_frame(core_->id(), receiver, topic, buf)});
  core_->publish_from(*participant_, std::move(msgs),
                      std::chrono::steady_clock::time_point::max());
}

void store_actor::emit_event(data event) {
  core_->deliver_local_only(store_events_topic, std::move(event));
}

void store_actor::insert_or_update_event(const data& key,
                                         const std::optional<data>& old,
                                         const data& value,
                                         std::optional<timespan> expiry,
                                         const entity& publisher) {
  if (!events_wanted())
    return;
  // Real Broker's layouts: ["insert", store, key, value, expiry, publisher]
  // and ["update", store, key, old, new, expiry, publisher].
  if (old)
    emit_event(data{vector{data{"update"}, data{name_}, key, *old, value,
                           expiry_data(expiry), publisher_data(publisher)}});
  else
    emit_event(data{vector{data{"insert"}, data{name_}, key, value,
                           expiry_data(expiry), publisher_data(publisher)}});
}

void store_actor::erase_event(const data& key, const entity& publisher) {
  if (!events_wanted())
    return;
  emit_event(data{vector{data{"erase"}, data{name_}, key,
                         publisher_data(publisher)}});
}

void store_actor::expire_event(const data& key, const entity& publisher) {
  if (!events_wanted())
    return;
  emit_event(data{vector{data{"expire"}, data{name_}, key,
                         publisher_data(publisher)}});
}

// Requests run in the caller's thread under the store's mutex: no thread
// hop for a get, and a get after a put on the same thread sees the put.
// The store's own thread takes the same mutex for commands and ticks.

void store_actor::get(data key, get_callback cb) {
  std::unique_lock guard{mtx_};
  if (stopped_)
    return cb(error{ec::shutting_down, "store is detached"});
  if (auto ok = readable(); !ok)
    return cb(ok.error());
  before_answer();
  cb(state().get(key));
}

void store_actor::get_index(data key, data index, get_callback cb) {
  std::unique_lock guard{mtx_};
  if (stopped_)
    return cb(error{ec::shutting_down, "store is detached"});
  if (auto ok = readable(); !ok)
    return cb(ok.error());
  before_answer();
  cb(state().get(key, index));
}

void store_actor::exists(data key, bool_callback cb) {
  std::unique_lock guard{mtx_};
  if (stopped_)
    return cb(error{ec::shutting_down, "store is detached"});
  if (auto ok = readable(); !ok)
    return cb(ok.error());
  before_answer();
  cb(state().exists(key));
}

void store_actor::keys(get_callback cb) {
  std::unique_lock guard{mtx_};
  if (stopped_)
    return cb(error{ec::shutting_down, "store is detached"});
  if (auto ok = readable(); !ok)
    return cb(ok.error());
  before_answer();
  cb(state().keys());
}

void store_actor::mutate(command_variant action) {
  std::unique_lock guard{mtx_};
  if (stopped_)
    return;
  // Frontends leave the publisher nil: it is this store.
  std::visit(
    [this](auto& x) {
      if constexpr (requires { x.publisher; })
        if (x.publisher.is_nil())
          x.publisher = self_;
    },
    action);
  do_mutate(std::move(action));
}

void store_actor::put_unique(data key, data value,
                             std::optional<timespan> expiry,
                             bool_callback cb) {
  std::unique_lock guard{mtx_};
  if (stopped_)
    return cb(error{ec::shutting_down, "store is detached"});
  do_put_unique(std::move(key), std::move(value), expiry, next_req_id_++,
                std::move(cb));
}

void store_actor::await_idle(std::chrono::steady_clock::time_point deadline,
                             std::function<void(bool)> cb) {
  std::unique_lock guard{mtx_};
  if (stopped_)
    return cb(false);
  idle_waiters_.emplace_back(deadline, std::move(cb));
  check_idle_waiters();
}

void store_actor::check_idle_waiters() {
  if (idle_waiters_.empty())
    return;
  before_idle_check();
  bool now_idle = idle();
  auto now = std::chrono::steady_clock::now();
  std::erase_if(idle_waiters_, [&](auto& w) {
    if (now_idle || now >= w.first) {
      w.second(now_idle);
      return true;
    }
    return false;
  });
}

// -- master -------------------------------------------------------------------------

namespace {

class master_actor final : public store_actor {
public:
  ~master_actor() override { stop(); }

  master_actor(std::shared_ptr<core> c, std::string name,
               std::unique_ptr<backend> b)
    : store_actor(std::move(c), std::move(name)),
      backend_(std::move(b)),
      producer_(make_producer_hooks()) {
    // The first ack_clone carries seq 1 (golden capture): actions start at
    // 2.
    producer_.set_offset(1);
  }

  bool is_master() const noexcept override { return true; }

protected:
  backend& state() override { return *backend_; }

  bool idle() const override { return producer_.idle(); }

  void flush() {
    if (auto ok = backend_->flush(); !ok)
      fail(ok.error(), "commit");
  }

  void on_stop() override { flush(); }

  // An acknowledged write (await_idle returning, or any later request on
  // this store answered) is a durable one.
  void before_idle_check() override { flush(); }
  void before_answer() override { flush(); }

  void on_start() override {
    // Re-arm expiry timers of keys loaded from a persistent backend.
    if (auto xs = backend_->expiries())
      for (auto& [key, when] : *xs)
        arm_expiry(key, when);
  }

  void on_tick() override {
    flush();
    producer_.tick();
    for (auto& [who, w] : writers_)
      w.consumer.tick();
    // Writers that went silent (their clone is gone) are forgotten; a
    // returning clone attaches again.
    for (auto& who : lost_writers_)
      writers_.erase(who);
    lost_writers_.clear();
  }

  void on_command(store_command cmd) override {
    auto& sender = cmd.sender;
    if (auto* nack = std::get_if<bin::nack_command>(&cmd.content)) {
      if (cmd.receiver.is_nil() && nack->seqs == std::vector<uint64_t>{0}) {
        attach_clone(sender);
        return;
      }
      producer_.handle_nack(sender, nack->seqs);
      return;
    }
    if (!(cmd.receiver == self_) && !cmd.receiver.is_nil())
      return; // for another master (e.g. an old incarnation)
    std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bin::cumulative_ack_command>) {
          producer_.handle_ack(sender, x.seq);
        } else if constexpr (std::is_same_v<T, bin::attach_writer_command>) {
          auto& w = writer(sender);
          w.consumer.reset(x.offset);
          store_command ack{0, self_, sender,
                            bin::cumulative_ack_command{x.offset}};
          send(clone_topic(), sender.endpoint, ack);
        } else if constexpr (std::is_same_v<T, bin::keepalive_command>) {
          if (auto i = writers_.find(sender); i != writers_.end())
            i->second.consumer.handle_keepalive(x.seq);
        } else if constexpr (std::is_same_v<T, bin::put_command>
                             || std::is_same_v<T, bin::put_unique_command>
                             || std::is_same_v<T, bin::erase_command>
                             || std::is_same_v<T, bin::add_command>
                             || std::is_same_v<T, bin::subtract_command>
                             || std::is_same_v<T, bin::clear_command>) {
          if (auto i = writers_.find(sender); i != writers_.end())
            i->second.consumer.handle(cmd.seq, command_variant{x});
          // Writes from an unattached writer are dropped: it attaches first.
        }
        // Anything else (ack_clone, expire, results) is not for a master.
      },
      cmd.content);
  }

  void do_mutate(command_variant action) override {
    apply(std::move(action));
  }

  void do_put_unique(data key, data value, std::optional<timespan> expiry,
                     uint64_t req_id, bool_callback cb) override {
    auto inserted = apply_put_unique(bin::put_unique_command{
      std::move(key), std::move(value), expiry, frontend_, req_id, self_});
    flush(); // acknowledged means durable
    cb(inserted);
  }

private:
  struct writer_state {
    channel_consumer<command_variant> consumer;
  };

  typename channel_producer<entity, command_variant, entity_less>::hooks
  make_producer_hooks() {
    typename channel_producer<entity, command_variant, entity_less>::hooks h;
    h.send = [this](uint64_t seq, const command_variant& x) {
      send(clone_topic(), endpoint_id{}, store_command{seq, self_, {}, x});
    };
    h.resend = [this](const entity&, uint64_t seq, const command_variant& x) {
      send(clone_topic(), endpoint_id{}, store_command{seq, self_, {}, x});
    };
    h.retransmit_failed = [this](const entity& to, uint64_t seq) {
      send(clone_topic(), endpoint_id{},
           store_command{0, self_, to, bin::retransmit_failed_command{seq}});
    };
    h.keepalive = [this](uint64_t seq) {
      send(clone_topic(), endpoint_id{},
           store_command{0, self_, {}, bin::keepalive_command{seq}});
    };
    h.consumer_lost = [](const entity&) {};
    return h;
  }

  writer_state& writer(const entity& who) {
    auto i = writers_.find(who);
    if (i != writers_.end())
      return i->second;
    typename channel_consumer<command_variant>::hooks h;
    h.deliver = [this](uint64_t, command_variant& x) { apply(std::move(x)); };
    h.ack = [this, who](uint64_t seq) {
      send(clone_topic(), who.endpoint,
           store_command{0, self_, who, bin::cumulative_ack_command{seq}});
    };
    h.nack = [this, who](std::vector<uint64_t> seqs) {
      send(clone_topic(), endpoint_id{},
           store_command{0, self_, who, bin::nack_command{std::move(seqs)}});
    };
    h.producer_lost = [this, who] { lost_writers_.push_back(who); };
    return writers_
      .emplace(who, writer_state{channel_consumer<command_variant>{h}})
      .first->second;
  }

  void attach_clone(const entity& who) {
    auto snap = backend_->snapshot();
    if (!snap) {
      core_->report_error(ec::backend_failure,
                          "store " + name_ + ": cannot read a snapshot: "
                            + snap.error().message());
      return;
    }
    bin::ack_clone_command ack;
    ack.offset = producer_.seq();
    ack.heartbeat_interval = heartbeat_ticks;
    ack.state.reserve(snap->size());
    for (auto& [k, v] : *snap)
      ack.state.emplace_back(k, v);
    producer_.add(who, producer_.seq());
    send(clone_topic(), who.endpoint,
         store_command{producer_.seq(), self_, who, std::move(ack)});
  }

  void arm_expiry(const data& key, timestamp when) {
    auto delay = when - std::chrono::time_point_cast<timespan>(
                          std::chrono::system_clock::now());
    if (delay < timespan{0})
      delay = timespan{0};
    actor_.schedule(std::chrono::steady_clock::now()
                      + std::chrono::duration_cast<
                        std::chrono::steady_clock::duration>(delay),
                    [this, key] {
                      std::lock_guard guard{mtx_};
                      expire_now(key);
                    });
  }

  void expire_now(const data& key) {
    auto now = std::chrono::time_point_cast<timespan>(
      std::chrono::system_clock::now());
    // The backend only removes the key if its current expiry has passed, so
    // a timer for a key that was overwritten since does nothing.
    auto removed = backend_->expire(key, now);
    if (removed && *removed) {
      expire_event(key, self_);
      producer_.produce(bin::expire_command{key, self_});
    }
  }

  void fail(const error& err, const char* what) {
    core_->report_error(err.code(), "store " + name_ + ": " + what + ": "
                                      + err.message());
  }

  // The previous value, only needed for store events.
  std::optional<data> old_value(const data& key) {
    if (!events_wanted())
      return std::nullopt;
    if (auto x = backend_->get(key))
      return std::move(*x);
    return std::nullopt;
  }

  // `known` is the new value when the caller has it (a put), else it is
  // read back (after add/subtract).
  void after_write(const data& key, std::optional<data> old,
                   std::optional<timespan> expiry, const entity& publisher,
                   const data* known = nullptr) {
    if (expiry)
      arm_expiry(key, *absolute(expiry));
    bool events = events_wanted();
    if (!events && producer_.consumers() == 0)
      return; // nobody to tell: a clone attaching later gets a snapshot
    expected<data> value = known ? expected<data>{*known} : backend_->get(key);
    if (!value)
      return;
    if (events)
      insert_or_update_event(key, old, *value, expiry, publisher);
    // Clones always receive the complete new value (golden capture).
    producer_.produce(bin::put_command{key, *value, expiry, publisher});
  }

  bool apply_put_unique(bin::put_unique_command x) {
    bool inserted = false;
    auto present = backend_->exists(x.key);
    if (present && !*present) {
      if (auto ok = backend_->put(x.key, x.value, absolute(x.expiry)); ok) {
        inserted = true;
        if (x.expiry)
          arm_expiry(x.key, *absolute(x.expiry));
        insert_or_update_event(x.key, std::nullopt, x.value, x.expiry,
                               x.publisher);
        producer_.produce(
          bin::put_command{x.key, x.value, x.expiry, x.publisher});
      } else {
        fail(ok.error(), "put_unique");
      }
    }
    producer_.produce(
      bin::put_unique_result_command{inserted, x.who, x.req_id, self_});
    return inserted;
  }

  void apply(command_variant action) {
    std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bin::put_command>) {
          auto old = old_value(x.key);
          if (auto ok = backend_->put(x.key, x.value, absolute(x.expiry)); !ok)
            return fail(ok.error(), "put");
          after_write(x.key, std::move(old), x.expiry, x.publisher, &x.value);
        } else if constexpr (std::is_same_v<T, bin::put_unique_command>) {
          apply_put_unique(std::move(x));
        } else if constexpr (std::is_same_v<T, bin::erase_command>) {
          auto present = backend_->exists(x.key);
          if (auto ok = backend_->erase(x.key); !ok)
            return fail(ok.error(), "erase");
          if (present && *present)
            erase_event(x.key, x.publisher);
          producer_.produce(bin::erase_command{x.key, x.publisher});
        } else if constexpr (std::is_same_v<T, bin::add_command>) {
          auto old = old_value(x.key);
          if (auto ok = backend_->add(x.key, x.value, x.init_type,
                                      absolute(x.expiry));
              !ok)
            return fail(ok.error(), "add");
          after_write(x.key, std::move(old), x.expiry, x.publisher);
        } else if constexpr (std::is_same_v<T, bin::subtract_command>) {
          auto old = old_value(x.key);
          if (auto ok = backend_->subtract(x.key, x.value,
                                           absolute(x.expiry));
              !ok)
            return fail(ok.error(), "subtract");
          after_write(x.key, std::move(old), x.expiry, x.publisher);
        } else if constexpr (std::is_same_v<T, bin::clear_command>) {
          auto keys = backend_->keys();
          if (auto ok = backend_->clear(); !ok)
            return fail(ok.error(), "clear");
          if (keys)
            for (auto& k : keys->template get<set>())
              erase_event(k, x.publisher);
          producer_.produce(bin::clear_command{x.publisher});
        }
      },
      action);
  }

  std::unique_ptr<backend> backend_;
  channel_producer<entity, command_variant, entity_less> producer_;
  std::map<entity, writer_state, entity_less> writers_;
  std::vector<entity> lost_writers_;
};

// -- clone ----------------------------------------------------------------------------

class clone_actor final : public store_actor {
public:
  ~clone_actor() override { stop(); }

  clone_actor(std::shared_ptr<core> c, std::string name, clone_options opts)
    : store_actor(std::move(c), std::move(name)),
      opts_(opts),
      consumer_(make_consumer_hooks()),
      writer_(make_writer_hooks()) {}

  bool is_master() const noexcept override { return false; }

protected:
  backend& state() override { return replica_; }

  expected<none> readable() const override {
    if (opts_.stale_interval >= 0 && !master_
        && std::chrono::steady_clock::now() - lost_since_
             > to_timespan(opts_.stale_interval))
      return error{ec::stale_data,
                   "clone of " + name_ + " has no master since "
                     + std::to_string(opts_.stale_interval) + " s"};
    return none{};
  }

  bool idle() const override {
    return master_.has_value() && buffered_.empty() && writer_.idle();
  }

  void on_start() override {
    lost_since_ = std::chrono::steady_clock::now();
    request_snapshot();
  }

  void on_stop() override {
    for (auto& [id, p] : pending_unique_)
      p.cb(error{ec::shutting_down, "store is detached"});
    pending_unique_.clear();
  }

  void on_tick() override {
    ++ticks_;
    for (auto i = pending_unique_.begin(); i != pending_unique_.end();) {
      if (ticks_ >= i->second.deadline_tick) {
        i->second.cb(error{ec::request_timeout,
                           "no answer from the master of " + name_});
        i = pending_unique_.erase(i);
      } else {
        ++i;
      }
    }
    if (!master_) {
      auto every = std::max<uint64_t>(
        1, static_cast<uint64_t>(opts_.resync_interval * 10));
      if (ticks_ % every == 0)
        request_snapshot();
      drop_stale_buffer();
      return;
    }
    consumer_.tick();
    writer_.tick();
  }

  void on_command(store_command cmd) override {
    auto& sender = cmd.sender;
    if (auto* ack = std::get_if<bin::ack_clone_command>(&cmd.content)) {
      if (cmd.receiver == self_)
        attach(sender, std::move(*ack));
      return;
    }
    if (!master_) {
      // A master announcing itself while we wait: ask it for a snapshot.
      if (std::holds_alternative<bin::keepalive_command>(cmd.content))
        request_snapshot();
      return;
    }
    if (!(sender == *master_)) {
      // Another master incarnation (a restart): resynchronise.
      if (std::holds_alternative<bin::keepalive_command>(cmd.content)) {
        master_.reset();
        lost_since_ = std::chrono::steady_clock::now();
        request_snapshot();
      }
      return;
    }
    std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bin::keepalive_command>) {
          consumer_.handle_keepalive(x.seq);
        } else if constexpr (std::is_same_v<T, bin::cumulative_ack_command>) {
          if (cmd.receiver == self_)
            writer_.handle_ack(*master_, x.seq);
        } else if constexpr (std::is_same_v<T, bin::nack_command>) {
          if (cmd.receiver == self_)
            writer_.handle_nack(*master_, x.seqs);
        } else if constexpr (std::is_same_v<T,
                                            bin::retransmit_failed_command>) {
          if (cmd.receiver == self_) {
            master_.reset();
            request_snapshot();
          }
        } else if constexpr (std::is_same_v<T, bin::put_command>
                             || std::is_same_v<T, bin::erase_command>
                             || std::is_same_v<T, bin::expire_command>
                             || std::is_same_v<T, bin::clear_command>
                             || std::is_same_v<
                               T, bin::put_unique_result_command>) {
          consumer_.handle(cmd.seq, command_variant{x});
        }
      },
      cmd.content);
  }

  void do_mutate(command_variant action) override { write(std::move(action)); }

  void do_put_unique(data key, data value, std::optional<timespan> expiry,
                     uint64_t req_id, bool_callback cb) override {
    pending_unique_.emplace(req_id,
                            pending{std::move(cb), ticks_ + request_ticks});
    write(bin::put_unique_command{std::move(key), std::move(value), expiry,
                                  frontend_, req_id, self_});
  }

private:
  typename channel_consumer<command_variant>::hooks make_consumer_hooks() {
    typename channel_consumer<command_variant>::hooks h;
    h.deliver = [this](uint64_t, command_variant& x) { apply(x); };
    h.ack = [this](uint64_t seq) {
      if (master_)
        send(master_topic(), master_->endpoint,
             store_command{0, self_, *master_,
                           bin::cumulative_ack_command{seq}});
    };
    h.nack = [this](std::vector<uint64_t> seqs) {
      if (master_)
        send(master_topic(), endpoint_id{},
             store_command{0, self_, *master_,
                           bin::nack_command{std::move(seqs)}});
    };
    h.producer_lost = [this] {
      master_.reset();
      lost_since_ = std::chrono::steady_clock::now();
      core_->report_error(ec::stale_data,
                          "clone of " + name_ + " lost its master");
    };
    return h;
  }

  typename channel_producer<entity, command_variant, entity_less>::hooks
  make_writer_hooks() {
    typename channel_producer<entity, command_variant, entity_less>::hooks h;
    h.send = [this](uint64_t seq, const command_variant& x) {
      send(master_topic(), endpoint_id{},
           store_command{seq, self_, master_.value_or(entity{}), x});
    };
    h.resend = [this](const entity&, uint64_t seq, const command_variant& x) {
      send(master_topic(), endpoint_id{},
           store_command{seq, self_, master_.value_or(entity{}), x});
    };
    h.retransmit_failed = [](const entity&, uint64_t) {};
    h.keepalive = [this](uint64_t seq) {
      if (master_)
        send(master_topic(), endpoint_id{},
             store_command{0, self_, {}, bin::keepalive_command{seq}});
    };
    h.consumer_lost = [](const entity&) {};
    return h;
  }

  void request_snapshot() {
    send(master_topic(), endpoint_id{},
         store_command{0, self_, {}, bin::nack_command{{0}}});
  }

  void attach(const entity& master, bin::ack_clone_command ack) {
    replica_.clear();
    for (auto& [k, v] : ack.state)
      replica_.put(k, v, std::nullopt);
    master_ = master;
    consumer_.reset(ack.offset);
    send(master_topic(), master.endpoint,
         store_command{0, self_, master,
                       bin::cumulative_ack_command{ack.offset}});
    // Open our writer channel at offset 1 (golden capture); actions 2, ...
    writer_ = channel_producer<entity, command_variant, entity_less>{make_writer_hooks()};
    writer_.set_offset(1);
    writer_.add(master, 1);
    send(master_topic(), endpoint_id{},
         store_command{0, self_, master,
                       bin::attach_writer_command{1, heartbeat_ticks}});
    auto buffered = std::move(buffered_);
    buffered_.clear();
    for (auto& [when, action] : buffered)
      writer_.produce(std::move(action));
  }

  void write(command_variant action) {
    if (!master_) {
      buffered_.emplace_back(std::chrono::steady_clock::now(),
                             std::move(action));
      return;
    }
    writer_.produce(std::move(action));
  }

  void drop_stale_buffer() {
    if (opts_.mutation_buffer_interval < 0)
      return;
    auto limit = std::chrono::steady_clock::now()
                 - to_timespan(opts_.mutation_buffer_interval);
    auto before = buffered_.size();
    std::erase_if(buffered_, [&](auto& x) { return x.first < limit; });
    if (buffered_.size() != before)
      core_->report_error(ec::stale_data,
                          "clone of " + name_
                            + " dropped writes: no master within the "
                              "mutation buffer interval");
  }

  void apply(command_variant& x) {
    std::visit(
      [&](auto& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, bin::put_command>) {
          std::optional<data> old;
          if (events_wanted())
            if (auto v = replica_.get(cmd.key))
              old = std::move(*v);
          replica_.put(cmd.key, cmd.value, std::nullopt);
          insert_or_update_event(cmd.key, old, cmd.value, cmd.expiry,
                                 cmd.publisher);
        } else if constexpr (std::is_same_v<T, bin::erase_command>) {
          if (auto present = replica_.exists(cmd.key); present && *present)
            erase_event(cmd.key, cmd.publisher);
          replica_.erase(cmd.key);
        } else if constexpr (std::is_same_v<T, bin::expire_command>) {
          if (auto present = replica_.exists(cmd.key); present && *present)
            expire_event(cmd.key, cmd.publisher);
          replica_.erase(cmd.key);
        } else if constexpr (std::is_same_v<T, bin::clear_command>) {
          if (auto keys = replica_.keys())
            for (auto& k : keys->template get<set>())
              erase_event(k, cmd.publisher);
          replica_.clear();
        } else if constexpr (std::is_same_v<T,
                                            bin::put_unique_result_command>) {
          if (cmd.who == frontend_) {
            auto i = pending_unique_.find(cmd.req_id);
            if (i != pending_unique_.end()) {
              i->second.cb(cmd.inserted);
              pending_unique_.erase(i);
            }
          }
        }
      },
      x);
  }

  clone_options opts_;
  memory_backend replica_;
  std::optional<entity> master_;
  channel_consumer<command_variant> consumer_;
  channel_producer<entity, command_variant, entity_less> writer_;
  std::vector<std::pair<std::chrono::steady_clock::time_point,
                        command_variant>>
    buffered_;
  struct pending {
    bool_callback cb;
    uint64_t deadline_tick;
  };
  // A put_unique unanswered for this many ticks (30 s) fails.
  static constexpr uint64_t request_ticks = 300;
  std::map<uint64_t, pending> pending_unique_;
  std::chrono::steady_clock::time_point lost_since_;
  uint64_t ticks_ = 0;
};

} // namespace

expected<std::shared_ptr<store_actor>>
make_master(std::shared_ptr<core> c, std::string name, backend_type type,
            const backend_options& opts) {
  std::unique_ptr<backend> b;
  switch (type) {
    case backend_type::memory:
      b = std::make_unique<memory_backend>();
      break;
    case backend_type::sqlite: {
      auto sopts = sqlite_options::from(opts);
      if (!sopts)
        return sopts.error();
      auto db = sqlite_backend::open(std::move(*sopts));
      if (!db)
        return db.error();
      b = std::move(*db);
      break;
    }
    case backend_type::rocksdb:
      return error{ec::backend_failure,
                   "the RocksDB backend is not available: this Broker "
                   "stores in memory or in SQLite"};
    default:
      return error{ec::backend_failure,
                   "unknown backend "
                     + std::to_string(static_cast<int>(type))};
  }
  auto result = std::make_shared<master_actor>(std::move(c), std::move(name),
                                               std::move(b));
  result->start();
  return std::shared_ptr<store_actor>{result};
}

std::shared_ptr<store_actor> make_clone(std::shared_ptr<core> c,
                                        std::string name, clone_options opts) {
  auto result = std::make_shared<clone_actor>(std::move(c), std::move(name),
                                              opts);
  result->start();
  return result;
}

} // namespace broker::detail
