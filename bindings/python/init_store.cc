// Bindings of data stores: broker._broker._Store, attach_master/clone.
// Every call that posts to a store's thread runs with the GIL released,
// mutations too (they wait while the store's queue is full). Errors follow
// real Broker's Python conventions (a missing key is None); other failures
// raise: TypeError for a type clash, RuntimeError when the store is
// detached, the endpoint shut down or the store did not answer in time,
// ValueError otherwise.
#include "init.hh"

#include "convert.hh"
#include "gil.hh"

#include "broker/endpoint.hh"
#include "broker/store.hh"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace broker::python {

namespace {

/// Seconds (float/int), a timedelta or a broker.Timespan -> timespan.
store::expiry_type expiry_of(py::handle x) {
  if (x.is_none())
    return std::nullopt;
  if (PyFloat_Check(x.ptr()) || (PyLong_Check(x.ptr()) && !PyBool_Check(x.ptr())))
    return std::chrono::duration_cast<timespan>(
      std::chrono::duration<double>(x.cast<double>()));
  auto d = to_data(x);
  if (auto* span = d.get_if<timespan>())
    return *span;
  throw py::type_error("expiry must be seconds, a timedelta or a "
                       "broker.Timespan, not "
                       + std::string{Py_TYPE(x.ptr())->tp_name});
}

[[noreturn]] void raise(const error& err) {
  auto msg = err.to_string();
  switch (err.code()) {
    case ec::type_clash:
      throw py::type_error(msg);
    case ec::shutting_down:
    case ec::request_timeout:
    case ec::backend_failure:
      throw std::runtime_error(msg);
    default:
      throw py::value_error(msg);
  }
}

/// Posts a mutation without the GIL; raises if it was not queued.
template <class F>
void mutate(F&& f) {
  auto res = without_gil(std::forward<F>(f));
  if (!res)
    raise(res.error());
}

/// A missing key (or missing index) is None, as in real Broker; `dflt`
/// lets callers tell a stored none from a missing key.
py::object value_or(const expected<data>& x, py::object dflt) {
  if (x)
    return to_object(*x);
  if (x.error().code() == ec::no_such_key)
    return dflt;
  raise(x.error());
}

} // namespace

void init_store(py::module_& m) {
  py::enum_<backend_type>(m, "Backend")
    .value("Memory", backend_type::memory)
    .value("SQLite", backend_type::sqlite)
    .value("RocksDB", backend_type::rocksdb);

  py::class_<store>(m, "_Store")
    .def("name", &store::name)
    .def("is_master", &store::is_master)
    .def(
      "get",
      [](store& s, py::handle key, py::object dflt) {
        auto k = to_data(key);
        auto x = without_gil([&] { return s.get(k); });
        return value_or(x, dflt);
      },
      py::arg("key"), py::arg("default") = py::none())
    .def(
      "get_index_from_value",
      [](store& s, py::handle key, py::handle index, py::object dflt) {
        auto k = to_data(key);
        auto i = to_data(index);
        auto x = without_gil([&] { return s.get_index_from_value(k, i); });
        return value_or(x, dflt);
      },
      py::arg("key"), py::arg("index"), py::arg("default") = py::none())
    .def("exists",
         [](store& s, py::handle key) {
           auto k = to_data(key);
           auto x = without_gil([&] { return s.exists(k); });
           if (!x)
             raise(x.error());
           return *x;
         })
    .def("keys",
         [](store& s) {
           auto x = without_gil([&] { return s.keys(); });
           if (!x)
             raise(x.error());
           return to_object(*x);
         })
    .def(
      "put_unique",
      [](store& s, py::handle key, py::handle value, py::handle expiry) {
        auto k = to_data(key);
        auto v = to_data(value);
        auto e = expiry_of(expiry);
        auto x = without_gil([&] { return s.put_unique(k, v, e); });
        if (!x)
          raise(x.error());
        return *x;
      },
      py::arg("key"), py::arg("value"), py::arg("expiry") = py::none())
    .def(
      "await_idle",
      [](store& s, std::optional<double> timeout) {
        // No timeout: real Broker's default (15 s), never forever.
        if (!timeout)
          return without_gil([&] { return s.await_idle(); });
        auto deadline = store::clock::now()
                        + std::chrono::duration_cast<store::clock::duration>(
                          std::chrono::duration<double>(*timeout));
        return without_gil([&] { return s.await_idle(deadline); });
      },
      py::arg("timeout") = py::none())
    .def(
      "put",
      [](store& s, py::handle key, py::handle value, py::handle expiry) {
        auto k = to_data(key);
        auto v = to_data(value);
        auto e = expiry_of(expiry);
        mutate([&] { return s.put(std::move(k), std::move(v), e); });
      },
      py::arg("key"), py::arg("value"), py::arg("expiry") = py::none())
    .def("erase",
         [](store& s, py::handle key) {
           auto k = to_data(key);
           mutate([&] { return s.erase(std::move(k)); });
         })
    .def("clear", [](store& s) { mutate([&] { return s.clear(); }); })
    .def(
      "increment",
      [](store& s, py::handle key, py::handle amount, py::handle expiry) {
        auto k = to_data(key);
        auto a = to_data(amount);
        auto e = expiry_of(expiry);
        mutate([&] { return s.increment(std::move(k), std::move(a), e); });
      },
      py::arg("key"), py::arg("amount"), py::arg("expiry") = py::none())
    .def(
      "decrement",
      [](store& s, py::handle key, py::handle amount, py::handle expiry) {
        auto k = to_data(key);
        auto a = to_data(amount);
        auto e = expiry_of(expiry);
        mutate([&] { return s.decrement(std::move(k), std::move(a), e); });
      },
      py::arg("key"), py::arg("amount"), py::arg("expiry") = py::none())
    .def(
      "append",
      [](store& s, py::handle key, py::handle str, py::handle expiry) {
        auto k = to_data(key);
        auto x = to_data(str);
        auto e = expiry_of(expiry);
        mutate([&] { return s.append(std::move(k), std::move(x), e); });
      },
      py::arg("key"), py::arg("s"), py::arg("expiry") = py::none())
    .def(
      "insert_into",
      [](store& s, py::handle key, py::handle index, py::handle value,
         py::handle expiry, bool has_value) {
        auto k = to_data(key);
        auto i = to_data(index);
        auto e = expiry_of(expiry);
        if (has_value) {
          auto v = to_data(value);
          mutate([&] {
            return s.insert_into(std::move(k), std::move(i), std::move(v), e);
          });
        } else {
          mutate([&] { return s.insert_into(std::move(k), std::move(i), e); });
        }
      },
      py::arg("key"), py::arg("index"), py::arg("value"), py::arg("expiry"),
      py::arg("has_value"))
    .def(
      "remove_from",
      [](store& s, py::handle key, py::handle index, py::handle expiry) {
        auto k = to_data(key);
        auto i = to_data(index);
        auto e = expiry_of(expiry);
        mutate([&] { return s.remove_from(std::move(k), std::move(i), e); });
      },
      py::arg("key"), py::arg("index"), py::arg("expiry") = py::none())
    .def(
      "push",
      [](store& s, py::handle key, py::handle value, py::handle expiry) {
        auto k = to_data(key);
        auto v = to_data(value);
        auto e = expiry_of(expiry);
        mutate([&] { return s.push(std::move(k), std::move(v), e); });
      },
      py::arg("key"), py::arg("value"), py::arg("expiry") = py::none())
    .def(
      "pop",
      [](store& s, py::handle key, py::handle expiry) {
        auto k = to_data(key);
        auto e = expiry_of(expiry);
        mutate([&] { return s.pop(std::move(k), e); });
      },
      py::arg("key"), py::arg("expiry") = py::none())
    .def("reset", [](store& s) { without_gil([&] { s.reset(); }); });

  m.def(
    "_attach_master",
    [](endpoint& e, const std::string& name, backend_type type,
       py::dict opts) -> py::tuple {
      endpoint::backend_options options;
      for (auto [k, v] : opts)
        options.emplace(py::str(k).cast<std::string>(), to_data(v));
      auto result = without_gil(
        [&] { return e.attach_master(name, type, options); });
      if (!result) {
        // Another endpoint has it: real Broker returns None (the Python
        // layer logs why).
        if (result.error().code() == ec::master_exists)
          return py::make_tuple(py::none(), result.error().message());
        throw std::runtime_error(result.error().to_string());
      }
      return py::make_tuple(py::cast(std::move(*result)), py::none());
    },
    py::arg("endpoint"), py::arg("name"), py::arg("backend"),
    py::arg("options"));

  m.def(
    "_attach_clone",
    [](endpoint& e, const std::string& name, double resync, double stale,
       double buffer) {
      return without_gil(
        [&] { return e.attach_clone(name, resync, stale, buffer); });
    },
    py::arg("endpoint"), py::arg("name"), py::arg("resync_interval"),
    py::arg("stale_interval"), py::arg("mutation_buffer_interval"));
}

} // namespace broker::python
