// The public store handle: a facade over a master or clone actor
// (src/store), which owns the store's state on its own thread. Every call
// is one request posted to that thread (store_actor.hh).
#include "broker/store.hh"

#include "store/store_actor.hh"

namespace broker {

namespace bin = format::bin;

namespace {

using detail::store_actor;

static_assert(std::string_view{store_events_topic}
              == std::string_view{detail::store_event_topic});

auto request_deadline() {
  return store::clock::now() + store_actor::request_timeout;
}

error detached() {
  return error{ec::shutting_down, "store handle was reset"};
}

bin::add_command add(data key, data value, data_type init,
                     store::expiry_type expiry) {
  return bin::add_command{std::move(key), std::move(value), init, expiry, {}};
}

} // namespace

store::store(std::shared_ptr<detail::store_actor> impl,
             std::shared_ptr<detail::store_lease> lease)
  : impl_(std::move(impl)), lease_(std::move(lease)) {}

std::unique_ptr<store> store::share() const {
  return std::unique_ptr<store>{new store(impl_, lease_)};
}

store::~store() {
  reset();
}

const std::string& store::name() const {
  return impl_->name();
}

bool store::is_master() const {
  return impl_->is_master();
}

expected<data> store::get(const data& key) const {
  if (!attached())
    return detached();
  return impl_->get(key, request_deadline());
}

expected<data> store::get_index_from_value(const data& key,
                                           const data& index) const {
  if (!attached())
    return detached();
  return impl_->get_index(key, index, request_deadline());
}

expected<bool> store::exists(const data& key) const {
  if (!attached())
    return detached();
  return impl_->exists(key, request_deadline());
}

expected<data> store::keys() const {
  if (!attached())
    return detached();
  return impl_->keys(request_deadline());
}

expected<bool> store::put_unique(data key, data value, expiry_type expiry) {
  if (!attached())
    return detached();
  return impl_->put_unique(std::move(key), std::move(value), expiry,
                           request_deadline());
}

bool store::await_idle(clock::time_point deadline) {
  return attached() && impl_->await_idle(deadline);
}

bool store::await_idle() {
  return await_idle(clock::now() + store_actor::await_idle_timeout);
}

// The publisher entity is filled in by the actor (nil here means "me").

namespace {

store::mutation_result post(const store& self, store_actor& impl,
                            detail::command_variant action) {
  if (!self.attached())
    return detached();
  return impl.mutate(std::move(action), request_deadline());
}

} // namespace

store::mutation_result store::put(data key, data value, expiry_type expiry) {
  return post(*this, *impl_,
              bin::put_command{std::move(key), std::move(value), expiry, {}});
}

store::mutation_result store::erase(data key) {
  return post(*this, *impl_, bin::erase_command{std::move(key), {}});
}

store::mutation_result store::clear() {
  return post(*this, *impl_, bin::clear_command{});
}

store::mutation_result store::increment(data key, data amount,
                                        expiry_type expiry) {
  auto t = amount.get_type();
  return post(*this, *impl_, add(std::move(key), std::move(amount), t, expiry));
}

store::mutation_result store::decrement(data key, data amount,
                                        expiry_type expiry) {
  return post(*this, *impl_,
              bin::subtract_command{std::move(key), std::move(amount), expiry,
                                    {}});
}

store::mutation_result store::append(data key, data str, expiry_type expiry) {
  return post(*this, *impl_,
              add(std::move(key), std::move(str), data_type::string, expiry));
}

store::mutation_result store::insert_into(data key, data index,
                                          expiry_type expiry) {
  return post(*this, *impl_,
              add(std::move(key), std::move(index), data_type::set, expiry));
}

store::mutation_result store::insert_into(data key, data index, data value,
                                          expiry_type expiry) {
  return post(*this, *impl_,
              add(std::move(key),
                  data{vector{std::move(index), std::move(value)}},
                  data_type::table, expiry));
}

store::mutation_result store::remove_from(data key, data index,
                                          expiry_type expiry) {
  return post(*this, *impl_,
              bin::subtract_command{std::move(key), std::move(index), expiry,
                                    {}});
}

store::mutation_result store::push(data key, data value, expiry_type expiry) {
  return post(*this, *impl_,
              add(std::move(key), std::move(value), data_type::vector,
                  expiry));
}

store::mutation_result store::pop(data key, expiry_type expiry) {
  // Real Broker sends pop as subtract(key, value = key) (golden capture).
  auto value = key;
  return post(*this, *impl_,
              bin::subtract_command{std::move(key), std::move(value), expiry,
                                    {}});
}

void store::reset() {
  // Only the first reset lets go of the lease (this handle's share in
  // keeping the store running); calls racing with it see `detached_`.
  if (detached_.exchange(true, std::memory_order_acq_rel))
    return;
  lease_.reset();
}

} // namespace broker
