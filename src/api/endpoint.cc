// The public endpoint, subscriber and status_subscriber: thin facades that
// forward to the core (src/core), which owns all state on its I/O thread.
#include "broker/endpoint.hh"

#include "core/core.hh"
#include "format/bin/frames.hh"
#include "store/clone.hh"
#include "store/master.hh"
#include "store/store_registry.hh"

#include <future>

namespace broker {

// -- subscriber ----------------------------------------------------------------

subscriber::subscriber(std::shared_ptr<detail::core> core,
                       std::shared_ptr<queue_type> queue)
  : core_(std::move(core)), queue_(std::move(queue)) {}

subscriber::~subscriber() {
  reset();
}

bool subscriber::wait_until(clock::time_point deadline) {
  return queue_->wait_until(deadline);
}

std::vector<subscriber::message_ptr> subscriber::poll(size_t max) {
  return queue_->pop(max);
}

subscriber::message_ptr subscriber::poll_one() {
  message_ptr result;
  queue_->pop_one(result);
  return result;
}

void subscriber::unpoll(std::vector<message_ptr> msgs) {
  queue_->push_front(std::move(msgs));
}

size_t subscriber::available() const {
  return queue_->size();
}

int subscriber::fd() {
  return queue_->fd();
}

size_t subscriber::capacity() const {
  return queue_->capacity();
}

void subscriber::add_topic(std::string topic, bool block) {
  if (core_->stopped())
    return;
  if (!block) {
    core_->add_topic(queue_, std::move(topic), nullptr);
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  core_->add_topic(queue_, std::move(topic), [done] { done->set_value(); });
  core_->await_done(fut); // false: shut down meanwhile, nothing to wait for
}

void subscriber::remove_topic(std::string topic, bool block) {
  if (core_->stopped())
    return;
  if (!block) {
    core_->remove_topic(queue_, std::move(topic), nullptr);
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  core_->remove_topic(queue_, std::move(topic), [done] { done->set_value(); });
  core_->await_done(fut); // false: shut down meanwhile, nothing to wait for
}

void subscriber::reset() {
  if (queue_ && !queue_->closed())
    core_->unsubscribe(queue_);
}

// -- status_subscriber -----------------------------------------------------------

status_subscriber::status_subscriber(std::shared_ptr<detail::core> core,
                                     std::shared_ptr<queue_type> queue)
  : core_(std::move(core)), queue_(std::move(queue)) {}

status_subscriber::~status_subscriber() {
  reset();
}

bool status_subscriber::wait_until(clock::time_point deadline) {
  return queue_->wait_until(deadline);
}

std::vector<status_event> status_subscriber::poll(size_t max) {
  return queue_->pop(max);
}

size_t status_subscriber::available() const {
  return queue_->size();
}

int status_subscriber::fd() {
  return queue_->fd();
}

void status_subscriber::reset() {
  if (queue_ && !queue_->closed())
    core_->unsubscribe_status(queue_);
}

// -- endpoint ----------------------------------------------------------------------

endpoint::endpoint(configuration cfg)
  : core_(std::make_shared<detail::core>(std::move(cfg))),
    stores_(std::make_shared<detail::store_registry>()) {
  core_->start();
  start_web_socket_from_env();
}

endpoint::~endpoint() {
  shutdown();
}

endpoint_id endpoint::node_id() const {
  return core_->id();
}

expected<uint16_t> endpoint::listen(const std::string& address,
                                    uint16_t port) {
  return core_->listen(address, port);
}

bool endpoint::peer(const std::string& address, uint16_t port, double retry) {
  if (core_->stopped())
    return false;
  auto done = std::make_shared<std::promise<bool>>();
  auto fut = done->get_future();
  // Only the first outcome counts; later retries report via statuses.
  auto fired = std::make_shared<bool>(false);
  core_->peer(address, port, retry, [done, fired](bool ok) {
    if (!*fired) {
      *fired = true;
      done->set_value(ok);
    }
  });
  return core_->await(fut).value_or(false);
}

void endpoint::peer_nosync(const std::string& address, uint16_t port,
                           double retry) {
  if (!core_->stopped())
    core_->peer(address, port, retry, [](bool) {});
}

bool endpoint::unpeer(const std::string& address, uint16_t port) {
  if (core_->stopped())
    return false;
  auto done = std::make_shared<std::promise<bool>>();
  auto fut = done->get_future();
  core_->unpeer(address, port, [done](bool ok) { done->set_value(ok); });
  return core_->await(fut).value_or(false);
}

void endpoint::unpeer_nosync(const std::string& address, uint16_t port) {
  if (!core_->stopped())
    core_->unpeer(address, port, [](bool) {});
}

std::vector<peer_info> endpoint::peers() const {
  return core_->peers();
}

std::vector<std::string> endpoint::peer_subscriptions() const {
  return core_->peer_subscriptions();
}

bool endpoint::await_peer(const endpoint_id& node, clock::time_point deadline) {
  return core_->await_peer(node, deadline);
}

void endpoint::forward(std::vector<std::string> topics) {
  if (!core_->stopped())
    core_->forward(std::move(topics));
}

bool endpoint::publish(const std::string& topic, const data& value,
                       const endpoint_id& receiver) {
  std::vector<detail::outgoing_message> msgs;
  msgs.push_back({topic, receiver,
                  format::bin::data_frame(core_->id(), receiver,
                                          core_->config().options.ttl, topic,
                                          value)});
  return core_->publish(std::move(msgs), clock::time_point::max());
}

bool endpoint::publish(std::vector<data_message> msgs) {
  std::vector<detail::outgoing_message> out;
  out.reserve(msgs.size());
  for (auto& msg : msgs)
    out.push_back({msg.topic, endpoint_id{},
                   format::bin::data_frame(core_->id(), endpoint_id{},
                                           core_->config().options.ttl,
                                           msg.topic, msg.value)});
  return core_->publish(std::move(out), clock::time_point::max());
}

size_t endpoint::buffered() const {
  return core_->publish_queue_size();
}

size_t endpoint::capacity() const {
  return core_->publish_queue_capacity();
}

int endpoint::publish_fd() const {
  return core_->publish_fd();
}

std::unique_ptr<subscriber>
endpoint::make_subscriber(std::vector<std::string> topics, size_t max_qsize) {
  auto q = core_->subscribe(std::move(topics), max_qsize);
  return std::unique_ptr<subscriber>{new subscriber(core_, std::move(q))};
}

std::unique_ptr<status_subscriber>
endpoint::make_status_subscriber(bool receive_statuses) {
  auto q = core_->subscribe_status(receive_statuses);
  return std::unique_ptr<status_subscriber>{
    new status_subscriber(core_, std::move(q))};
}

namespace {

detail::backend_kind to_kind(backend_type type) {
  switch (type) {
    case backend_type::memory:
      return detail::backend_kind::memory;
    case backend_type::sqlite:
      return detail::backend_kind::sqlite;
    case backend_type::rocksdb:
      return detail::backend_kind::rocksdb;
  }
  // An out-of-range value cast from Python or C: refused by the backend.
  return static_cast<detail::backend_kind>(type);
}

} // namespace

expected<std::unique_ptr<store>>
endpoint::attach_master(const std::string& name, backend_type type,
                        const backend_options& opts) {
  if (core_->stopped())
    return error{ec::shutting_down, "endpoint is shut down"};
  auto lease = stores_->attach_master(
    name, [&]() -> expected<detail::store_registry::actor_ptr> {
      if (core_->peer_subscribed_exactly(name + "/<$>/data/master"))
        return error{ec::master_exists,
                     "another endpoint already has a master for store "
                       + name};
      return detail::make_master(core_, stores_, name, to_kind(type), opts);
    });
  if (!lease)
    return lease.error();
  auto actor = (*lease)->actor;
  return std::unique_ptr<store>{new store(std::move(actor), std::move(*lease))};
}

std::unique_ptr<store> endpoint::attach_clone(const std::string& name,
                                              double resync_interval,
                                              double stale_interval,
                                              double mutation_buffer_interval) {
  detail::clone_options opts;
  opts.resync_interval = resync_interval;
  opts.stale_interval = stale_interval;
  opts.mutation_buffer_interval = mutation_buffer_interval;
  auto lease
    = stores_->attach_clone(detail::make_clone(core_, stores_, name, opts));
  auto actor = lease->actor;
  return std::unique_ptr<store>{new store(std::move(actor), std::move(lease))};
}

void endpoint::shutdown() {
  // WebSocket sessions close (1001) while the I/O thread still runs.
  shutdown_web_socket();
  // Stores first, while the core still carries their last messages.
  stores_->stop_all();
  core_->shutdown();
}

bool endpoint::is_shut_down() const {
  return core_->stopped();
}

const configuration& endpoint::config() const {
  return core_->config();
}

} // namespace broker
