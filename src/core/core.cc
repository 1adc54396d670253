#include "core/core.hh"

#include "util/assert.hh"

#include <filesystem>
#include <future>
#include <stdexcept>

namespace broker::detail {

namespace {

// Refuses settings we would otherwise ignore silently.
configuration checked(configuration cfg) {
  if (!cfg.options.use_real_time)
    throw std::invalid_argument("use_real_time=false (simulated time) is not "
                                "supported");
  // Real Broker reads ./broker.conf unless told not to; we have no reader
  // for it, so its settings would be ignored: say so instead.
  if (!cfg.options.ignore_broker_conf && std::filesystem::exists("broker.conf"))
    throw std::invalid_argument(
      "./broker.conf is not supported: move its settings into "
      "broker.Configuration and set BrokerOptions.ignore_broker_conf");
  return cfg;
}

net::tls_context_ptr make_tls(const configuration& cfg) {
  if (cfg.options.disable_ssl)
    return nullptr;
  auto ctx = net::tls_context::make(cfg);
  if (!ctx)
    throw std::invalid_argument(ctx.error().message());
  return std::move(*ctx);
}

} // namespace

core::core(configuration cfg)
  : cfg_(checked(std::move(cfg))),
    id_(endpoint_id::random()),
    tls_(make_tls(cfg_)),
    statuses_(cfg_.options.status_queue_size),
    locals_(cfg_, loop_, statuses_),
    pubq_(cfg_.options.publish_queue_size,
          [this] { loop_.post([this] { router_.drain_publish_queue(); }); }),
    router_(cfg_, id_, loop_, statuses_, locals_, pubq_),
    peers_(cfg_, id_, loop_, tls_, statuses_, router_) {
}

core::~core() {
  shutdown();
}

void core::start() {
  loop_.start();
}

template <class F>
auto core::run_blocking(F f) {
  using result_type = decltype(f());
  using optional_type = std::conditional_t<std::is_void_v<result_type>, bool,
                                           std::optional<result_type>>;
  if (loop_.in_loop_thread()) {
    if constexpr (std::is_void_v<result_type>) {
      f();
      return optional_type{true};
    } else {
      return optional_type{f()};
    }
  }
  // Shared with the posted work: if a shutdown discards it, nothing it
  // refers to is gone when the loop is finally destroyed.
  auto prom = std::make_shared<std::promise<result_type>>();
  auto fut = prom->get_future();
  auto task = std::make_shared<F>(std::move(f));
  loop_.post([prom, task] {
    if constexpr (std::is_void_v<result_type>) {
      (*task)();
      prom->set_value();
    } else {
      prom->set_value((*task)());
    }
  });
  if constexpr (std::is_void_v<result_type>)
    return optional_type{await_done(fut)};
  else
    return optional_type{await(fut)};
}

// -- peering -----------------------------------------------------------------------

expected<uint16_t> core::listen(const std::string& address, uint16_t port) {
  if (stopped_)
    return error{ec::shutting_down, "endpoint is shut down"};
  auto result = run_blocking([&] { return peers_.listen(address, port); });
  if (!result)
    return error{ec::shutting_down, "endpoint is shut down"};
  return std::move(*result);
}

void core::peer(const std::string& address, uint16_t port, double retry,
                std::function<void(bool)> done) {
  loop_.post([this, address, port, retry, done = std::move(done)]() mutable {
    peers_.peer(address, port, retry, std::move(done));
  });
}

void core::unpeer(const std::string& address, uint16_t port,
                  std::function<void(bool)> done) {
  loop_.post([this, address, port, done = std::move(done)]() mutable {
    peers_.unpeer(address, port, std::move(done));
  });
}

std::vector<peer_info> core::peers() {
  if (stopped_)
    return {};
  return run_blocking([this] { return peers_.peers(); })
    .value_or(std::vector<peer_info>{});
}

std::vector<std::string> core::peer_subscriptions() {
  if (stopped_)
    return {};
  return run_blocking([this] { return router_.peer_subscriptions(); })
    .value_or(std::vector<std::string>{});
}

bool core::await_peer(const endpoint_id& node, clock::time_point deadline) {
  return router_.await_peer(node, deadline);
}

void core::forward(std::vector<std::string> topics) {
  loop_.post([this, topics = std::move(topics)]() mutable {
    router_.add_forwards(std::move(topics));
  });
}

// -- publishing --------------------------------------------------------------------

bool core::publish(std::vector<outgoing_message> msgs,
                   clock::time_point deadline) {
  return !stopped_ && pubq_.push(std::move(msgs), deadline);
}

// -- participants ------------------------------------------------------------------

std::optional<participant_id>
core::add_participant(std::vector<std::string> topics, participant_hooks hooks) {
  if (stopped_)
    return std::nullopt;
  return run_blocking([&] {
    auto id = locals_.add_participant(std::move(topics), std::move(hooks));
    router_.refresh_routing();
    return id;
  });
}

void core::set_participant_topics(participant_id id,
                                  std::vector<std::string> topics) {
  loop_.post([this, id, topics = std::move(topics)]() mutable {
    locals_.set_participant_topics(id, std::move(topics));
    router_.refresh_routing();
  });
}

void core::remove_participant(participant_id id) {
  if (stopped_)
    return;
  run_blocking([this, id] {
    locals_.remove_participant(id);
    router_.refresh_routing();
  });
}

bool core::publish_from(participant_id id, std::vector<outgoing_message> msgs,
                        clock::time_point deadline) {
  BROKER_ASSERT(!loop_.in_loop_thread());
  for (auto& msg : msgs)
    msg.from = id;
  return publish(std::move(msgs), deadline);
}

void core::route_from(participant_id id, outgoing_message msg) {
  BROKER_ASSERT(loop_.in_loop_thread());
  msg.from = id;
  router_.route_now(msg);
}

bool core::try_route_from(participant_id id, outgoing_message& msg,
                          std::function<void()> on_room) {
  BROKER_ASSERT(loop_.in_loop_thread());
  msg.from = id;
  if (router_.try_route_now(msg))
    return true;
  router_.when_room(std::move(on_room));
  return false;
}

std::shared_ptr<const std::atomic<bool>>
core::watch_interest(std::string topic) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  if (!stopped_)
    run_blocking([&] { locals_.watch(std::move(topic), flag); });
  return flag;
}

bool core::peer_subscribed_exactly(const std::string& topic) {
  if (stopped_)
    return false;
  return run_blocking([&] { return router_.peer_subscribed_exactly(topic); })
    .value_or(false);
}

void core::deliver_local_only(std::string topic, data value) {
  loop_.post([this, topic = std::move(topic), value = std::move(value)]() mutable {
    locals_.deliver_to_subscribers(topic, std::move(value));
  });
}

void core::report_error(ec code, std::string message) {
  loop_.post([this, code, message = std::move(message)]() mutable {
    statuses_.emit_error(code, endpoint_info{id_, std::nullopt},
                         std::move(message));
  });
}

// -- subscribing -------------------------------------------------------------------

std::shared_ptr<subscriber_queue>
core::subscribe(std::vector<std::string> topics, size_t capacity) {
  auto q = std::make_shared<subscriber_queue>(capacity);
  std::weak_ptr<core> weak = weak_from_this();
  std::weak_ptr<subscriber_queue> weak_q = q;
  q->on_drained([this, weak, weak_q] {
    if (auto self = weak.lock(); self && !stopped_)
      loop_.post([this, weak_q] {
        if (auto sq = weak_q.lock())
          locals_.on_progress(sq);
      });
  });
  if (stopped_) {
    q->close();
    return q;
  }
  if (!run_blocking([&] {
        locals_.add_subscriber(q, std::move(topics));
        router_.refresh_routing();
      }))
    q->close(); // shut down meanwhile: a closed queue, as after shutdown
  return q;
}

void core::add_topic(const std::shared_ptr<subscriber_queue>& q,
                     std::string topic, std::function<void()> done) {
  loop_.post([this, q, topic = std::move(topic), done = std::move(done)] {
    locals_.add_topic(q, topic);
    router_.refresh_routing();
    if (done)
      done();
  });
}

void core::remove_topic(const std::shared_ptr<subscriber_queue>& q,
                        std::string topic, std::function<void()> done) {
  loop_.post([this, q, topic = std::move(topic), done = std::move(done)] {
    locals_.remove_topic(q, topic);
    router_.refresh_routing();
    if (done)
      done();
  });
}

void core::unsubscribe(const std::shared_ptr<subscriber_queue>& q) {
  q->close();
  loop_.post([this, q] {
    locals_.remove_subscriber(q);
    router_.refresh_routing();
  });
}

std::shared_ptr<status_queue> core::subscribe_status(bool receive_statuses) {
  auto q = statuses_.make_queue();
  if (stopped_ || !run_blocking([&] { statuses_.add(q, receive_statuses); }))
    q->close(); // shut down (meanwhile): a closed queue
  return q;
}

void core::unsubscribe_status(const std::shared_ptr<status_queue>& q) {
  q->close();
  loop_.post([this, q] { statuses_.remove(q); });
}

// -- shutdown ----------------------------------------------------------------------

void core::shutdown() {
  BROKER_ASSERT(!loop_.in_loop_thread());
  std::unique_lock guard{shutdown_mtx_};
  if (stopped_)
    return;
  std::promise<void> finished;
  auto fut = finished.get_future();
  loop_.post([this, &finished] {
    router_.stop();
    // Local subscribers no longer hold back peers: a connection paused for
    // backpressure would never read the pong to our BYE.
    locals_.stop_backpressure();
    // Flush what was published before shutdown() into the peer buffers.
    router_.drain_publish_queue();
    // Bounded: bye_timeout for the pongs, then at most 2 s of flushing.
    peers_.shutdown([this, &finished] {
      stopped_ = true;
      finished.set_value();
    });
  });
  fut.wait();
  loop_.stop();
  locals_.close_all();
  statuses_.close_all();
  pubq_.close();
  peers_.clear();
}

} // namespace broker::detail
