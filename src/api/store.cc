// The public store handle: a facade over a master or clone actor
// (src/store), which owns the store's state on its own thread.
#include "broker/store.hh"

#include "broker/endpoint.hh"
#include "core/core.hh"
#include "store/store_actor.hh"

#include <future>

namespace broker {

namespace bin = format::bin;

namespace {

template <class T, class F>
T ask(F f) {
  auto prom = std::make_shared<std::promise<T>>();
  auto fut = prom->get_future();
  f([prom](T result) { prom->set_value(std::move(result)); });
  return fut.get();
}

bin::add_command add(data key, data value, data_type init,
                     store::expiry_type expiry) {
  return bin::add_command{std::move(key), std::move(value), init, expiry, {}};
}

} // namespace

store::store(std::shared_ptr<detail::store_actor> impl)
  : impl_(impl), lease_(std::make_shared<detail::store_lease>(std::move(impl))) {}

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
  return ask<expected<data>>(
    [&](auto cb) { impl_->get(key, std::move(cb)); });
}

expected<data> store::get_index_from_value(const data& key,
                                           const data& index) const {
  return ask<expected<data>>(
    [&](auto cb) { impl_->get_index(key, index, std::move(cb)); });
}

expected<bool> store::exists(const data& key) const {
  return ask<expected<bool>>(
    [&](auto cb) { impl_->exists(key, std::move(cb)); });
}

expected<data> store::keys() const {
  return ask<expected<data>>([&](auto cb) { impl_->keys(std::move(cb)); });
}

expected<bool> store::put_unique(data key, data value, expiry_type expiry) {
  return ask<expected<bool>>([&](auto cb) {
    impl_->put_unique(std::move(key), std::move(value), expiry, std::move(cb));
  });
}

bool store::await_idle(clock::time_point deadline) {
  return ask<bool>(
    [&](auto cb) { impl_->await_idle(deadline, std::move(cb)); });
}

// The publisher entity is filled in by the actor (nil here means "me").

void store::put(data key, data value, expiry_type expiry) {
  impl_->mutate(
    bin::put_command{std::move(key), std::move(value), expiry, {}});
}

void store::erase(data key) {
  impl_->mutate(bin::erase_command{std::move(key), {}});
}

void store::clear() {
  impl_->mutate(bin::clear_command{});
}

void store::increment(data key, data amount, expiry_type expiry) {
  auto t = amount.get_type();
  impl_->mutate(add(std::move(key), std::move(amount), t, expiry));
}

void store::decrement(data key, data amount, expiry_type expiry) {
  impl_->mutate(
    bin::subtract_command{std::move(key), std::move(amount), expiry, {}});
}

void store::append(data key, data str, expiry_type expiry) {
  impl_->mutate(add(std::move(key), std::move(str), data_type::string, expiry));
}

void store::insert_into(data key, data index, expiry_type expiry) {
  impl_->mutate(add(std::move(key), std::move(index), data_type::set, expiry));
}

void store::insert_into(data key, data index, data value, expiry_type expiry) {
  impl_->mutate(add(std::move(key),
                    data{vector{std::move(index), std::move(value)}},
                    data_type::table, expiry));
}

void store::remove_from(data key, data index, expiry_type expiry) {
  impl_->mutate(
    bin::subtract_command{std::move(key), std::move(index), expiry, {}});
}

void store::push(data key, data value, expiry_type expiry) {
  impl_->mutate(
    add(std::move(key), std::move(value), data_type::vector, expiry));
}

void store::pop(data key, expiry_type expiry) {
  // Real Broker sends pop as subtract(key, value = key) (golden capture).
  auto value = key;
  impl_->mutate(
    bin::subtract_command{std::move(key), std::move(value), expiry, {}});
}

void store::reset() {
  lease_.reset();
}

} // namespace broker
