#include "store/clone.hh"

#include "store/channel.hh"
#include "store/memory_backend.hh"
#include "util/overloaded.hh"

#include <map>
#include <vector>

namespace broker::detail {

namespace bin = format::bin;

namespace {

/// What a master sends its clones on the action channel.
template <class T>
concept master_action
  = any_of<T, bin::put_command, bin::erase_command, bin::expire_command,
           bin::clear_command, bin::put_unique_result_command>;

class clone_actor final : public store_actor {
public:
  using writer_type = channel_producer<entity, command_variant, entity_less>;

  clone_actor(std::shared_ptr<core> c, std::shared_ptr<store_registry> reg,
              std::string name, clone_options opts)
    : store_actor(std::move(c), std::move(reg), std::move(name)),
      opts_(opts),
      consumer_(make_consumer_hooks()),
      writer_(make_writer_hooks()) {}

  ~clone_actor() override { stop(); }

  bool is_master() const noexcept override { return false; }

protected:
  backend& state() override { return replica_; }

  expected<none> readable() const override {
    if (opts_.stale_interval >= 0 && !master_
        && clock::now() - lost_since_ > seconds_to_timespan(opts_.stale_interval))
      return error{ec::stale_data,
                   "clone of " + name_ + " has no master since "
                     + std::to_string(opts_.stale_interval) + " s"};
    return none{};
  }

  bool idle() const override {
    return master_.has_value() && buffered_.empty() && writer_.idle();
  }

  void on_start() override {
    lost_since_ = clock::now();
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
        lost_since_ = clock::now();
        request_snapshot();
      }
      return;
    }
    bool for_us = cmd.receiver == self_;
    std::visit(
      overloaded{
        [&](bin::keepalive_command& x) { consumer_.handle_keepalive(x.seq); },
        [&](bin::cumulative_ack_command& x) {
          if (for_us)
            writer_.handle_ack(*master_, x.seq);
        },
        [&](bin::nack_command& x) {
          if (for_us)
            writer_.handle_nack(*master_, x.seqs);
        },
        [&](bin::retransmit_failed_command&) {
          if (for_us) {
            master_.reset();
            request_snapshot();
          }
        },
        [&](master_action auto& x) {
          consumer_.handle(cmd.seq, command_variant{std::move(x)});
        },
        // Writer commands and the like are for a master.
        [](auto&) {},
      },
      cmd.content);
  }

  void do_mutate(command_variant action) override { write(std::move(action)); }

  void do_put_unique(data key, data value, std::optional<timespan> expiry,
                     uint64_t req_id, reply_fn<expected<bool>> cb) override {
    pending_unique_.emplace(req_id,
                            pending{std::move(cb), ticks_ + request_ticks});
    write(bin::put_unique_command{std::move(key), std::move(value), expiry,
                                  frontend_, req_id, self_});
  }

private:
  channel_consumer<command_variant>::hooks make_consumer_hooks() {
    channel_consumer<command_variant>::hooks h;
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
      lost_since_ = clock::now();
      report(ec::stale_data, "clone lost its master");
    };
    return h;
  }

  writer_type::hooks make_writer_hooks() {
    writer_type::hooks h;
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
    writer_ = writer_type{make_writer_hooks()};
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
      buffered_.emplace_back(clock::now(), std::move(action));
      return;
    }
    writer_.produce(std::move(action));
  }

  void drop_stale_buffer() {
    if (opts_.mutation_buffer_interval < 0)
      return;
    auto limit = clock::now() - seconds_to_timespan(opts_.mutation_buffer_interval);
    auto before = buffered_.size();
    std::erase_if(buffered_, [&](auto& x) { return x.first < limit; });
    if (buffered_.size() != before)
      report(ec::stale_data, "clone dropped writes: no master within the "
                             "mutation buffer interval");
  }

  void apply(command_variant& x) {
    std::visit(
      overloaded{
        [&](bin::put_command& cmd) {
          std::optional<data> old;
          if (events_wanted())
            if (auto v = replica_.get(cmd.key))
              old = std::move(*v);
          replica_.put(cmd.key, cmd.value, std::nullopt);
          insert_or_update_event(cmd.key, old, cmd.value, cmd.expiry,
                                 cmd.publisher);
        },
        [&](bin::erase_command& cmd) {
          if (auto present = replica_.exists(cmd.key); present && *present)
            erase_event(cmd.key, cmd.publisher);
          replica_.erase(cmd.key);
        },
        [&](bin::expire_command& cmd) {
          if (auto present = replica_.exists(cmd.key); present && *present)
            expire_event(cmd.key, cmd.publisher);
          replica_.erase(cmd.key);
        },
        [&](bin::clear_command& cmd) {
          if (auto keys = replica_.keys())
            for (auto& k : keys->template get<set>())
              erase_event(k, cmd.publisher);
          replica_.clear();
        },
        [&](bin::put_unique_result_command& cmd) {
          if (!(cmd.who == frontend_))
            return; // another clone's request
          if (auto i = pending_unique_.find(cmd.req_id);
              i != pending_unique_.end()) {
            i->second.cb(cmd.inserted);
            pending_unique_.erase(i);
          }
        },
        [](auto&) {},
      },
      x);
  }

  struct pending {
    reply_fn<expected<bool>> cb;
    uint64_t deadline_tick;
  };

  // A put_unique unanswered for this many ticks fails: the caller gave up
  // by then (store_actor::request_timeout).
  static constexpr uint64_t request_ticks = 100;

  clone_options opts_;
  memory_backend replica_;
  std::optional<entity> master_;
  channel_consumer<command_variant> consumer_;
  writer_type writer_;
  std::vector<std::pair<clock::time_point, command_variant>> buffered_;
  std::map<uint64_t, pending> pending_unique_;
  clock::time_point lost_since_;
  uint64_t ticks_ = 0;
};

} // namespace

std::shared_ptr<store_actor> make_clone(std::shared_ptr<core> c,
                                        std::shared_ptr<store_registry> reg,
                                        std::string name, clone_options opts) {
  auto result = std::make_shared<clone_actor>(std::move(c), std::move(reg),
                                              std::move(name), opts);
  result->start();
  return result;
}

} // namespace broker::detail
