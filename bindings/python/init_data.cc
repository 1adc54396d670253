// Bindings of the data model: broker.Data, broker.Topic, broker.EC.
#include "init.hh"

#include "convert.hh"
#include "format/bin/value_codec.hh"
#include "format/json/value_codec.hh"

#include "broker/error.hh"
#include "broker/topic.hh"

#include <pybind11/operators.h>

namespace py = pybind11;

namespace broker::python {

namespace {

py::str printable(const std::string& text) {
  PyObject* result = PyUnicode_DecodeUTF8(
    text.data(), static_cast<Py_ssize_t>(text.size()), "backslashreplace");
  if (result == nullptr)
    throw py::error_already_set();
  return py::reinterpret_steal<py::str>(result);
}

} // namespace

void init_data(py::module_& m) {
  py::enum_<ec>(m, "EC", "Broker's error codes (real Broker's values).")
    .value("None_", ec::none)
    .value("Unspecified", ec::unspecified)
    .value("PeerIncompatible", ec::peer_incompatible)
    .value("PeerInvalid", ec::peer_invalid)
    .value("PeerUnavailable", ec::peer_unavailable)
    .value("PeerDisconnectDuringHandshake",
           ec::peer_disconnect_during_handshake)
    .value("PeerTimeout", ec::peer_timeout)
    .value("MasterExists", ec::master_exists)
    .value("NoSuchMaster", ec::no_such_master)
    .value("NoSuchKey", ec::no_such_key)
    // Real Broker's spelling first: it is the name str() and .name show.
    .value("RequestTimeOut", ec::request_timeout)
    .value("RequestTimeout", ec::request_timeout)
    .value("TypeClash", ec::type_clash)
    .value("InvalidData", ec::invalid_data)
    .value("BackendFailure", ec::backend_failure)
    .value("StaleData", ec::stale_data)
    .value("CannotOpenFile", ec::cannot_open_file)
    .value("CannotWriteFile", ec::cannot_write_file)
    .value("InvalidTopicKey", ec::invalid_topic_key)
    .value("EndOfFile", ec::end_of_file)
    .value("InvalidTag", ec::invalid_tag)
    .value("InvalidMessage", ec::invalid_message)
    .value("InvalidStatus", ec::invalid_status)
    .value("ConversionFailed", ec::conversion_failed)
    .value("ConsumerExists", ec::consumer_exists)
    .value("ConnectionTimeout", ec::connection_timeout)
    .value("BadMemberFunctionCall", ec::bad_member_function_call)
    .value("RepeatedRequestId", ec::repeated_request_id)
    .value("BrokenClone", ec::broken_clone)
    .value("ShuttingDown", ec::shutting_down)
    .value("InvalidPeeringRequest", ec::invalid_peering_request)
    .value("RepeatedPeeringHandshakeRequest",
           ec::repeated_peering_handshake_request)
    .value("UnexpectedHandshakeMessage", ec::unexpected_handshake_message)
    .value("InvalidHandshakeState", ec::invalid_handshake_state)
    .value("NoPathToPeer", ec::no_path_to_peer)
    .value("NoConnectorAvailable", ec::no_connector_available)
    .value("CannotOpenResource", ec::cannot_open_resource)
    .value("SerializationFailed", ec::serialization_failed)
    .value("DeserializationFailed", ec::deserialization_failed)
    .value("WrongMagicNumber", ec::wrong_magic_number)
    .value("RedundantConnection", ec::redundant_connection)
    .value("LogicError", ec::logic_error)
    .value("InvalidJson", ec::invalid_json);

  py::class_<topic>(m, "Topic", "A /-separated topic string.")
    .def(py::init<std::string>(), py::arg("topic") = "")
    .def("string", &topic::string)
    .def("__truediv__", [](const topic& x, const topic& y) { return x / y; })
    .def("__truediv__",
         [](const topic& x, const std::string& y) { return x / topic{y}; })
    .def("prefix_of", &topic::prefix_of, py::arg("other"),
         "Whether a subscription to this topic receives messages on `other`.")
    .def(
      "prefix_of",
      [](const topic& x, const topic& other) {
        return x.prefix_of(other.string());
      },
      py::arg("other"))
    .def_static("is_reserved", &topic::is_reserved)
    .def(py::self == py::self)
    .def(py::self < py::self)
    .def("__hash__",
         [](const topic& x) { return std::hash<std::string>{}(x.string()); })
    .def("__str__", &topic::string)
    .def("__repr__",
         [](const topic& x) { return "Topic(" + x.string() + ")"; });

  py::class_<data> cls(m, "Data", "A Broker value (SPEC §2).");
  py::enum_<data_type>(cls, "Type")
    .value("Nil", data_type::none)
    // Real Broker's alias of Nil (reached as getattr(Data.Type, "None"));
    // registered second, so the value's name stays "Nil" as there.
    .value("None", data_type::none)
    .value("Boolean", data_type::boolean)
    .value("Count", data_type::count)
    .value("Integer", data_type::integer)
    .value("Real", data_type::real)
    .value("String", data_type::string)
    .value("Address", data_type::address)
    .value("Subnet", data_type::subnet)
    .value("Port", data_type::port)
    .value("Timestamp", data_type::timestamp)
    .value("Timespan", data_type::timespan)
    .value("EnumValue", data_type::enum_value)
    .value("Set", data_type::set)
    .value("Table", data_type::table)
    .value("Vector", data_type::vector);
  cls
    .def(py::init([](py::handle x) { return to_data(x); }),
         py::arg("x") = py::none()) // real Broker's parameter names
    .def_static("from_py", &to_data, py::arg("x"),
                "Converts a Python value to Data.")
    .def("to_py", &to_object, py::arg("safe") = false,
         "Converts to Python; safe=True returns hashable, immutable forms.")
    .def("get_type", &data::get_type)
    .def(
      "_elements",
      [](const data& x) -> py::list {
        // For the as_set/as_table/as_vector accessors (broker/_compat.py):
        // the elements as Data objects, not converted to Python values.
        py::list result;
        if (auto* xs = x.get_if<set>()) {
          for (auto& y : *xs)
            result.append(py::cast(y));
        } else if (auto* xs = x.get_if<vector>()) {
          for (auto& y : *xs)
            result.append(py::cast(y));
        } else if (auto* xs = x.get_if<table>()) {
          for (auto& [k, v] : *xs)
            result.append(py::make_tuple(py::cast(k), py::cast(v)));
        } else {
          throw py::type_error("Data holds a "
                               + std::string{to_string(x.get_type())}
                               + ", not a set, table or vector");
        }
        return result;
      },
      "The elements of a set or vector (Data), or (key, value) pairs of a "
      "table, in Broker's order.")
    .def(
      "_nanoseconds",
      [](const data& x) -> integer {
        // Exact, unlike the timedelta/datetime that to_py() returns.
        if (auto* span = x.get_if<timespan>())
          return span->count();
        if (auto* ts = x.get_if<timestamp>())
          return ts->time_since_epoch().count();
        throw py::type_error("Data holds a "
                             + std::string{to_string(x.get_type())}
                             + ", not a timespan or timestamp");
      },
      "Nanoseconds of a timespan, or since the epoch of a timestamp.")
    .def(
      "to_bytes",
      [](const data& x) {
        format::bin::byte_buffer buf;
        if (!format::bin::encode(x, buf))
          throw py::value_error("value too large for the wire format");
        return py::bytes(reinterpret_cast<const char*>(buf.data()),
                         buf.size());
      },
      "The wire format v1 encoding.")
    .def_static(
      "from_bytes",
      [](py::bytes b) {
        std::string_view view = b;
        auto result = format::bin::decode(std::span{
          reinterpret_cast<const std::byte*>(view.data()), view.size()});
        if (!result)
          throw py::value_error(result.error().to_string());
        return std::move(*result);
      },
      py::arg("data"), "Decodes the wire format v1 encoding.")
    .def("to_json",
         [](const data& x) { return format::json::encode(x); },
         "The WebSocket API's JSON encoding.")
    .def_static(
      "from_json",
      [](std::string_view text) {
        auto result = format::json::decode(text);
        if (!result)
          throw py::value_error(result.error().to_string());
        return std::move(*result);
      },
      py::arg("text"), "Decodes the WebSocket API's JSON encoding.")
    .def(py::self == py::self)
    .def(py::self != py::self)
    .def(py::self < py::self)
    .def(py::self <= py::self)
    .def(py::self > py::self)
    .def(py::self >= py::self)
    .def("__hash__", [](const data& x) { return hash_value(x); })
    // Broker strings are bytes: text that is not UTF-8 prints with
    // backslash escapes instead of failing (real Broker raises
    // UnicodeDecodeError here).
    .def("__str__", [](const data& x) { return printable(to_string(x)); })
    .def("__repr__", [](const data& x) {
      return printable("Data(" + to_string(x) + ")");
    });

  m.def(
    "_register_value_holders",
    [](py::handle classes) {
      if (!register_value_holders(classes.ptr()))
        throw py::error_already_set();
    },
    py::arg("classes"),
    "Tells the converter the classes that hold their value in `_value`.");

  m.def(
    "_register_types",
    [cls](py::handle count, py::handle port, py::handle port_protocol,
          py::handle enum_type, py::handle timespan, py::handle timestamp,
          py::handle frozen_table) {
      if (!register_types(count.ptr(), port.ptr(), port_protocol.ptr(),
                          enum_type.ptr(), timespan.ptr(), timestamp.ptr(),
                          frozen_table.ptr(), cls.ptr()))
        throw py::error_already_set();
    },
    "Tells the converter the Python classes of broker/_values.py.");
}

} // namespace broker::python
