// Bindings of Zeek's message layouts: broker.zeek.Event and friends. An
// Event *is* a broker.Data (the whole message), so publish() takes it as is.
#include "init.hh"

#include "convert.hh"

#include "broker/zeek.hh"

namespace py = pybind11;

namespace broker::python {

namespace {

/// A Zeek event message; the base holds the complete layout.
struct zeek_event : data {
  using data::data;
  explicit zeek_event(data x) : data(std::move(x)) {}
};

zeek::event_view view_of(const zeek_event& ev) {
  auto view = zeek::parse_event(ev);
  if (!view)
    throw py::value_error(view.error().message());
  return *view;
}

/// Metadata as a dict or an iterable of (key, value) pairs; keys become
/// counts (an int, an IntEnum such as MetadataType, or a Count).
vector metadata_of(py::handle md) {
  vector result;
  if (md.is_none())
    return result;
  py::object items = py::isinstance<py::dict>(md)
                       ? py::reinterpret_borrow<py::dict>(md).attr("items")()
                       : py::reinterpret_borrow<py::object>(md);
  for (auto item : items) {
    auto pair = py::reinterpret_borrow<py::sequence>(item);
    if (py::len(pair) != 2)
      throw py::value_error("metadata entries must be (key, value) pairs");
    auto key_obj = pair[0];
    if (!PyLong_Check(key_obj.ptr()) || PyBool_Check(key_obj.ptr()))
      throw py::type_error("metadata keys must be ints, not "
                           + std::string{Py_TYPE(key_obj.ptr())->tp_name});
    auto key = PyLong_AsUnsignedLongLong(key_obj.ptr());
    if (PyErr_Occurred())
      throw py::error_already_set();
    result.emplace_back(vector{data{count{key}}, to_data(pair[1])});
  }
  return result;
}

py::list list_of(const vector& xs, bool safe) {
  py::list result{xs.size()};
  for (size_t i = 0; i < xs.size(); ++i)
    PyList_SET_ITEM(result.ptr(), static_cast<Py_ssize_t>(i),
                    to_object(xs[i], safe).release().ptr());
  return result;
}

} // namespace

void init_zeek(py::module_& m) {
  auto zm = m.def_submodule("zeek", "Zeek's message layouts");

  py::enum_<zeek::message_type>(zm, "MessageType")
    .value("Invalid", zeek::message_type::invalid)
    .value("Event", zeek::message_type::event)
    .value("LogCreate", zeek::message_type::log_create)
    .value("LogWrite", zeek::message_type::log_write)
    .value("IdentifierUpdate", zeek::message_type::identifier_update)
    .value("Batch", zeek::message_type::batch);

  py::class_<zeek_event, data>(zm, "Event", "A Zeek event message.")
    // Any value is accepted, as in real Broker: valid() tells whether it is
    // an event; name(), args() and metadata() raise ValueError if not.
    .def(py::init([](py::handle msg) { return zeek_event{to_data(msg)}; }),
         py::arg("message"))
    .def(py::init([](std::string name, py::handle args, py::handle metadata) {
           vector xs;
           for (auto arg : args)
             xs.push_back(to_data(arg));
           return zeek_event{zeek::make_event(std::move(name), std::move(xs),
                                              metadata_of(metadata))};
         }),
         py::arg("name"), py::arg("args"), py::arg("metadata") = py::none())
    .def("name", [](const zeek_event& ev) { return *view_of(ev).name; })
    .def(
      "args",
      [](const zeek_event& ev, bool safe) {
        return list_of(*view_of(ev).args, safe);
      },
      py::arg("safe") = false)
    .def(
      "metadata",
      [](const zeek_event& ev, bool safe) -> py::object {
        auto view = view_of(ev);
        if (view.metadata == nullptr)
          return py::none();
        py::list result;
        for (auto& entry : *view.metadata) {
          auto& kv = entry.get<vector>();
          // Keys are counts on the wire, so broker.Count here, as in
          // real Broker (to_object keeps the distinction from int).
          result.append(py::make_tuple(to_object(kv[0], safe),
                                       to_object(kv[1], safe)));
        }
        return result;
      },
      py::arg("safe") = false)
    .def("valid", [](const zeek_event& ev) {
      return static_cast<bool>(zeek::parse_event(ev));
    });

  zm.def(
    "message_type",
    [](py::handle msg) {
      auto t = zeek::type_of(to_data(msg));
      return t ? *t : zeek::message_type::invalid;
    },
    py::arg("message"), "The Zeek message type of a value (Invalid if none).");

  zm.def(
    "check_message",
    [](py::handle msg, zeek::message_type t) {
      auto value = to_data(msg); // parse_content points into it
      auto content = zeek::parse_content(value, t);
      if (!content)
        throw py::value_error(content.error().message());
      return to_object(data{**content}, false);
    },
    py::arg("message"), py::arg("type"),
    "Validates a message of type `type` and returns its content.");
}

} // namespace broker::python
