#include "store/master.hh"

#include "store/channel.hh"
#include "store/memory_backend.hh"
#include "store/sqlite_backend.hh"
#include "util/overloaded.hh"

#include <map>
#include <vector>

namespace broker::detail {

namespace bin = format::bin;

namespace {

/// What a clone may ask its master to do.
template <class T>
concept writer_action
  = any_of<T, bin::put_command, bin::put_unique_command, bin::erase_command,
           bin::add_command, bin::subtract_command, bin::clear_command>;

std::optional<timestamp> absolute(std::optional<timespan> rel) {
  if (!rel)
    return std::nullopt;
  return std::chrono::time_point_cast<timespan>(std::chrono::system_clock::now())
         + *rel;
}

class master_actor final : public store_actor {
public:
  using producer_type = channel_producer<entity, command_variant, entity_less>;

  master_actor(std::shared_ptr<core> c, std::shared_ptr<store_registry> reg,
               std::string name, std::unique_ptr<backend> b)
    : store_actor(std::move(c), std::move(reg), std::move(name)),
      backend_(std::move(b)),
      producer_(make_producer_hooks()) {
    // The first ack_clone carries seq 1 (golden capture): actions start at
    // 2.
    producer_.set_offset(1);
  }

  ~master_actor() override { stop(); }

  bool is_master() const noexcept override { return true; }

protected:
  backend& state() override { return *backend_; }

  bool idle() const override { return producer_.idle(); }

  void commit() override {
    if (auto ok = backend_->flush(); !ok)
      fail(ok.error(), "commit");
  }

  bool uncommitted() const override { return backend_->dirty(); }

  void on_start() override {
    // Re-arm expiry timers of keys loaded from a persistent backend.
    if (auto xs = backend_->expiries())
      for (auto& [key, when] : *xs)
        arm_expiry(key, when);
  }

  void on_tick() override {
    producer_.tick();
    for (auto& [who, w] : writers_)
      w.tick();
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
      overloaded{
        [&](bin::cumulative_ack_command& x) {
          producer_.handle_ack(sender, x.seq);
        },
        [&](bin::attach_writer_command& x) {
          writer(sender).reset(x.offset);
          send(clone_topic(), sender.endpoint,
               store_command{0, self_, sender,
                             bin::cumulative_ack_command{x.offset}});
        },
        [&](bin::keepalive_command& x) {
          if (auto i = writers_.find(sender); i != writers_.end())
            i->second.handle_keepalive(x.seq);
        },
        [&](writer_action auto& x) {
          // Writes from an unattached writer are dropped: it attaches
          // first.
          if (auto i = writers_.find(sender); i != writers_.end())
            i->second.handle(cmd.seq, command_variant{std::move(x)});
        },
        // Anything else (ack_clone, expire, results) is not for a master.
        [](auto&) {},
      },
      cmd.content);
  }

  void do_mutate(command_variant action) override {
    apply(std::move(action));
  }

  void do_put_unique(data key, data value, std::optional<timespan> expiry,
                     uint64_t req_id, reply_fn<expected<bool>> cb) override {
    auto inserted = apply_put_unique(bin::put_unique_command{
      std::move(key), std::move(value), expiry, frontend_, req_id, self_});
    // Acknowledged means durable: answered after the commit.
    answer([cb = std::move(cb), inserted] { cb(inserted); });
  }

private:
  using writer_channel = channel_consumer<command_variant>;

  producer_type::hooks make_producer_hooks() {
    producer_type::hooks h;
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

  /// The channel on which clone `who` sends us its writes.
  writer_channel& writer(const entity& who) {
    if (auto i = writers_.find(who); i != writers_.end())
      return i->second;
    writer_channel::hooks h;
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
    return writers_.emplace(who, writer_channel{h}).first->second;
  }

  void attach_clone(const entity& who) {
    auto snap = backend_->snapshot();
    if (!snap) {
      report(ec::backend_failure,
             "cannot read a snapshot: " + snap.error().message());
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
    actor_.schedule(
      clock::now() + std::chrono::duration_cast<clock::duration>(delay),
      [this, key] { expire_now(key); });
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
    report(err.code(), std::string{what} + ": " + err.message());
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
      overloaded{
        [&](bin::put_command& x) {
          auto old = old_value(x.key);
          if (auto ok = backend_->put(x.key, x.value, absolute(x.expiry)); !ok)
            return fail(ok.error(), "put");
          after_write(x.key, std::move(old), x.expiry, x.publisher, &x.value);
        },
        [&](bin::put_unique_command& x) { apply_put_unique(std::move(x)); },
        [&](bin::erase_command& x) {
          auto present = backend_->exists(x.key);
          if (auto ok = backend_->erase(x.key); !ok)
            return fail(ok.error(), "erase");
          if (present && *present)
            erase_event(x.key, x.publisher);
          producer_.produce(bin::erase_command{x.key, x.publisher});
        },
        [&](bin::add_command& x) {
          auto old = old_value(x.key);
          if (auto ok = backend_->add(x.key, x.value, x.init_type,
                                      absolute(x.expiry));
              !ok)
            return fail(ok.error(), "add");
          after_write(x.key, std::move(old), x.expiry, x.publisher);
        },
        [&](bin::subtract_command& x) {
          auto old = old_value(x.key);
          if (auto ok = backend_->subtract(x.key, x.value,
                                           absolute(x.expiry));
              !ok)
            return fail(ok.error(), "subtract");
          after_write(x.key, std::move(old), x.expiry, x.publisher);
        },
        [&](bin::clear_command& x) {
          auto keys = backend_->keys();
          if (auto ok = backend_->clear(); !ok)
            return fail(ok.error(), "clear");
          if (keys)
            for (auto& k : keys->template get<set>())
              erase_event(k, x.publisher);
          producer_.produce(bin::clear_command{x.publisher});
        },
        // Results, acks and the like never reach apply().
        [](auto&) {},
      },
      action);
  }

  std::unique_ptr<backend> backend_;
  producer_type producer_;
  std::map<entity, writer_channel, entity_less> writers_;
  std::vector<entity> lost_writers_;
};

expected<std::unique_ptr<backend>> open_backend(backend_kind kind,
                                                const backend_options& opts) {
  switch (kind) {
    case backend_kind::memory:
      return std::unique_ptr<backend>{std::make_unique<memory_backend>()};
    case backend_kind::sqlite: {
      auto sopts = sqlite_options::from(opts);
      if (!sopts)
        return sopts.error();
      auto db = sqlite_backend::open(std::move(*sopts));
      if (!db)
        return db.error();
      return std::unique_ptr<backend>{std::move(*db)};
    }
    case backend_kind::rocksdb:
      return error{ec::backend_failure,
                   "the RocksDB backend is not available: this Broker "
                   "stores in memory or in SQLite"};
  }
  return error{ec::backend_failure,
               "unknown backend " + std::to_string(static_cast<int>(kind))};
}

} // namespace

expected<std::shared_ptr<store_actor>>
make_master(std::shared_ptr<core> c, std::shared_ptr<store_registry> reg,
            std::string name, backend_kind kind, const backend_options& opts) {
  auto b = open_backend(kind, opts);
  if (!b)
    return b.error();
  auto result = std::make_shared<master_actor>(std::move(c), std::move(reg),
                                               std::move(name), std::move(*b));
  result->start();
  return std::shared_ptr<store_actor>{std::move(result)};
}

} // namespace broker::detail
