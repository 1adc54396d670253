#include "store/store_actor.hh"

#include "store/reply.hh"
#include "store/store_registry.hh"

#include "format/bin/frames.hh"
#include "format/bin/value_codec.hh"

namespace broker::detail {

namespace bin = format::bin;
using namespace std::chrono_literals;

namespace {

constexpr auto tick_interval = 100ms;

data expiry_data(std::optional<timespan> x) {
  return x ? data{*x} : data{};
}

data publisher_data(const entity& e) {
  return data{vector{data{e.endpoint.to_string()}, data{count{e.object}}}};
}

error detached() {
  return error{ec::shutting_down, "store is detached"};
}

} // namespace

store_actor::store_actor(std::shared_ptr<core> c,
                         std::shared_ptr<store_registry> reg, std::string name)
  : core_(std::move(c)),
    registry_(std::move(reg)),
    name_(std::move(name)),
    events_wanted_(core_->watch_interest(store_event_topic)) {
  self_ = entity{core_->id(), registry_->next_object_id()};
  frontend_ = entity{core_->id(), self_.object + 1};
}

store_actor::~store_actor() {
  stop();
}

void store_actor::start() {
  actor_.start([this] { on_flush(); });
  auto topic = is_master() ? master_topic() : clone_topic();
  // The hook runs on the I/O thread. Decoding there would block it on big
  // snapshots: hand the bytes to the store's thread. Raw `this` is safe:
  // stop() removes the participant (synchronously) and joins the thread
  // before anything is destroyed.
  participant_hooks hooks;
  hooks.on_command = [this](command_message msg) {
    actor_.post([this, msg = std::move(msg)] {
      auto cmd = bin::decode_store_command(msg.payload);
      if (!cmd) {
        report(ec::invalid_message,
               "malformed command: " + cmd.error().message());
        return;
      }
      on_command(std::move(*cmd));
    });
  };
  participant_ = core_->add_participant({topic}, std::move(hooks));
  actor_.post([this] { on_start(); });
  schedule_tick();
}

void store_actor::schedule_tick() {
  actor_.schedule(clock::now() + tick_interval, [this] {
    on_tick();
    check_idle_waiters();
    schedule_tick();
  });
}

void store_actor::stop() {
  std::unique_lock stop_guard{stop_mtx_};
  if (stopped_.exchange(true))
    return;
  // Requests queued before the stop still run (they were accepted), and a
  // master still tells its clones about them; but a stalled backend cannot
  // keep the caller here for longer than a request may take. Commands from
  // peers are dropped from now on (the actor refuses them).
  actor_.stop(clock::now() + request_timeout);
  if (participant_)
    core_->remove_participant(*participant_);
  // The thread is gone: its state is ours now. Answer whoever still waits,
  // so that no caller waits for its deadline.
  for (auto& w : idle_waiters_)
    w.second(false);
  idle_waiters_.clear();
  on_stop();
  commit();
  for (auto& fn : deferred_answers_)
    fn();
  deferred_answers_.clear();
  if (is_master())
    registry_->release_master(name_);
}

// -- the store's thread ----------------------------------------------------------

void store_actor::on_flush() {
  // Group commit: everything queued so far is in one transaction. Answers
  // held back for it go out only now.
  commit();
  if (!deferred_answers_.empty()) {
    auto answers = std::move(deferred_answers_);
    deferred_answers_.clear();
    for (auto& fn : answers)
      fn();
  }
  check_idle_waiters();
}

void store_actor::answer(std::function<void()> fn) {
  if (uncommitted())
    deferred_answers_.push_back(std::move(fn));
  else
    fn();
}

void store_actor::send(const std::string& topic, const endpoint_id& receiver,
                       const store_command& cmd) {
  if (!participant_)
    return; // the endpoint was already shut down when we started
  bin::byte_buffer buf;
  bin::encode(cmd, buf);
  std::vector<outgoing_message> msgs;
  msgs.push_back({topic, receiver,
                  format::bin::command_frame(core_->id(), receiver, topic,
                                             buf)});
  // Blocks only while the publish queue is full (slow peers). A command
  // that cannot go out by the deadline is lost like one on a broken link:
  // the channel's acks and retransmissions (channel.hh) recover it.
  if (!core_->publish_from(*participant_, std::move(msgs),
                           clock::now() + request_timeout)
      && !core_->stopped())
    report(ec::request_timeout, "publish queue full: a command was dropped");
}

void store_actor::emit_event(data event) {
  core_->deliver_local_only(store_event_topic, std::move(event));
}

void store_actor::report(ec code, std::string message) {
  core_->report_error(code, "store " + name_ + ": " + message);
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

void store_actor::check_idle_waiters() {
  if (idle_waiters_.empty())
    return;
  bool now_idle = idle();
  auto now = clock::now();
  std::erase_if(idle_waiters_, [&](auto& w) {
    if (now_idle || now >= w.first) {
      // Idle includes durable: a master answers after its commit.
      answer([cb = std::move(w.second), now_idle] { cb(now_idle); });
      return true;
    }
    return false;
  });
}

// -- requests --------------------------------------------------------------------

std::optional<error> store_actor::refusal() const {
  if (stopped_.load(std::memory_order_acquire))
    return detached();
  if (core_->stopped())
    return error{ec::shutting_down, "endpoint is shut down"};
  return std::nullopt;
}

template <class T, class Query>
expected<T> store_actor::ask(clock::time_point deadline, Query query) {
  if (auto err = refusal())
    return *err;
  reply_slot<expected<T>> slot;
  auto posted = actor_.post(
    [query = std::move(query), reply = slot.make_reply_to()]() mutable {
      query(reply_fn<expected<T>>{std::move(reply)});
    });
  if (!posted)
    return detached();
  switch (slot.wait(deadline, answer_spin_)) {
    case reply_slot<expected<T>>::outcome::answered:
      return std::move(slot.value());
    case reply_slot<expected<T>>::outcome::abandoned:
      return detached();
    default:
      return error{ec::request_timeout,
                   "store " + name_ + " did not answer in time"};
  }
}

expected<data> store_actor::get(data key, clock::time_point deadline) {
  return ask<data>(deadline, [this, key = std::move(key)](auto reply) {
    auto ok = readable();
    auto result = ok ? state().get(key) : expected<data>{ok.error()};
    answer([reply = std::move(reply), result = std::move(result)]() mutable {
      reply(std::move(result));
    });
  });
}

expected<data> store_actor::get_index(data key, data index,
                                      clock::time_point deadline) {
  return ask<data>(deadline, [this, key = std::move(key),
                              index = std::move(index)](auto reply) {
    auto ok = readable();
    auto result = ok ? state().get(key, index) : expected<data>{ok.error()};
    answer([reply = std::move(reply), result = std::move(result)]() mutable {
      reply(std::move(result));
    });
  });
}

expected<bool> store_actor::exists(data key, clock::time_point deadline) {
  return ask<bool>(deadline, [this, key = std::move(key)](auto reply) {
    auto ok = readable();
    auto result = ok ? state().exists(key) : expected<bool>{ok.error()};
    answer([reply = std::move(reply), result = std::move(result)]() mutable {
      reply(std::move(result));
    });
  });
}

expected<data> store_actor::keys(clock::time_point deadline) {
  return ask<data>(deadline, [this](auto reply) {
    auto ok = readable();
    auto result = ok ? state().keys() : expected<data>{ok.error()};
    answer([reply = std::move(reply), result = std::move(result)]() mutable {
      reply(std::move(result));
    });
  });
}

expected<bool> store_actor::put_unique(data key, data value,
                                       std::optional<timespan> expiry,
                                       clock::time_point deadline) {
  return ask<bool>(deadline, [this, key = std::move(key),
                              value = std::move(value),
                              expiry](auto reply) mutable {
    do_put_unique(std::move(key), std::move(value), expiry, next_req_id_++,
                  std::move(reply));
  });
}

bool store_actor::await_idle(clock::time_point deadline) {
  auto result = ask<bool>(deadline, [this, deadline](auto reply) {
    idle_waiters_.emplace_back(deadline, [reply = std::move(reply)](bool x) {
      reply(x);
    });
    check_idle_waiters();
  });
  return result && *result;
}

expected<none> store_actor::mutate(command_variant action,
                                   clock::time_point deadline) {
  if (auto err = refusal())
    return *err;
  auto f = [this, action = std::move(action)]() mutable {
    // Frontends leave the publisher nil: it is this store.
    std::visit(
      [this](auto& x) {
        if constexpr (requires { x.publisher; })
          if (x.publisher.is_nil())
            x.publisher = self_;
      },
      action);
    do_mutate(std::move(action));
  };
  switch (actor_.post_bounded(std::move(f), deadline)) {
    case actor::admission::queued:
      return none{};
    case actor::admission::stopped:
      return detached();
    default:
      return error{ec::request_timeout,
                   "store " + name_ + " is not keeping up: its queue is full"};
  }
}

} // namespace broker::detail
