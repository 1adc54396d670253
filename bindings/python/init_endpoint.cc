// Bindings of endpoints, subscribers and statuses. Waiting releases the GIL
// in slices of at most 100 ms and checks for signals in between, so Ctrl-C
// interrupts a blocking get(). The I/O thread never takes the GIL.
#include "init.hh"

#include "convert.hh"
#include "gil.hh"

#include "broker/endpoint.hh"
#include "broker/topic.hh"

#include <pybind11/stl.h>

#include <chrono>
#include <optional>

namespace py = pybind11;

namespace broker::python {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

clock::time_point deadline_of(std::optional<double> timeout) {
  if (!timeout)
    return clock::time_point::max();
  if (*timeout <= 0)
    return clock::now();
  return clock::now()
         + std::chrono::duration_cast<clock::duration>(
           std::chrono::duration<double>(*timeout));
}

/// Waits with the GIL released until `ready(slice_deadline)` returns true
/// or `deadline` passes; raises KeyboardInterrupt & co. between slices.
template <class Ready>
bool wait_interruptibly(clock::time_point deadline, Ready ready) {
  for (;;) {
    auto now = clock::now();
    auto slice = deadline - now > 100ms ? now + 100ms : deadline;
    bool ok = without_gil([&] { return ready(slice); });
    if (ok)
      return true;
    if (PyErr_CheckSignals() != 0)
      throw py::error_already_set();
    if (clock::now() >= deadline)
      return false;
  }
}

/// Makes (topic, value) tuples; remembers the last topic's str object, since
/// a subscriber mostly sees runs of the same topic.
class message_converter {
public:
  explicit message_converter(bool safe) : safe_(safe) {}

  PyObject* convert(const data_message& msg) {
    PyObject* value = to_py(msg.value, safe_);
    if (value == nullptr)
      return nullptr;
    if (!topic_obj_ || msg.topic != topic_) {
      PyObject* t = PyUnicode_DecodeUTF8(
        msg.topic.data(), static_cast<Py_ssize_t>(msg.topic.size()),
        "surrogateescape");
      if (t == nullptr) {
        Py_DECREF(value);
        return nullptr;
      }
      topic_obj_ = py::reinterpret_steal<py::object>(t);
      topic_ = msg.topic;
    }
    PyObject* tuple = PyTuple_New(2);
    if (tuple == nullptr) {
      Py_DECREF(value);
      return nullptr;
    }
    PyTuple_SET_ITEM(tuple, 0, topic_obj_.inc_ref().ptr());
    PyTuple_SET_ITEM(tuple, 1, value);
    return tuple;
  }

  /// Converts a batch, holding the GIL once for all of it. A message that
  /// cannot be converted ends the batch: the ones before it are returned
  /// and the rest (it first) go back to `sub`, so the next call raises for
  /// it and nothing else is lost. If it is the first, it raises now.
  py::list convert_all(std::vector<subscriber::message_ptr> msgs,
                       subscriber& sub) {
    py::list result{msgs.size()};
    for (size_t i = 0; i < msgs.size(); ++i) {
      PyObject* item = convert(*msgs[i]);
      if (item == nullptr) {
        auto skip = static_cast<std::ptrdiff_t>(i == 0 ? 1 : i);
        sub.unpoll({msgs.begin() + skip, msgs.end()});
        if (i == 0)
          throw py::error_already_set();
        PyErr_Clear();
        auto n = static_cast<Py_ssize_t>(i);
        if (PyList_SetSlice(result.ptr(), n, PY_SSIZE_T_MAX, nullptr) != 0)
          throw py::error_already_set();
        return result;
      }
      PyList_SET_ITEM(result.ptr(), static_cast<Py_ssize_t>(i), item);
    }
    return result;
  }

private:
  bool safe_;
  std::string topic_;
  py::object topic_obj_;
};

/// A BrokerOptions setting in seconds that refuses a negative value (and
/// zero unless `allow_zero`) with a ValueError naming it.
template <class Class>
void def_seconds(Class& cls, const char* name, double broker_options::*member,
                 bool allow_zero, const char* doc) {
  auto err = std::string{name}
             + (allow_zero ? " must be >= 0 seconds" : " must be > 0 seconds");
  cls.def_property(
    name, [member](const broker_options& o) { return o.*member; },
    [member, allow_zero, err](broker_options& o, double secs) {
      if (!(allow_zero ? secs >= 0 : secs > 0))
        throw py::value_error(err);
      o.*member = secs;
    },
    doc);
}

// A count option that must be at least 1.
template <class Class>
void def_count(Class& cls, const char* name, size_t broker_options::*member,
               const char* doc) {
  auto err = std::string{name} + " must be >= 1";
  cls.def_property(
    name, [member](const broker_options& o) { return o.*member; },
    [member, err](broker_options& o, size_t n) {
      if (n == 0)
        throw py::value_error(err);
      o.*member = n;
    },
    doc);
}

std::string topic_string(py::handle t) {
  if (py::isinstance<topic>(t))
    return t.cast<const topic&>().string();
  if (PyUnicode_Check(t.ptr()))
    return t.cast<std::string>();
  throw py::type_error(std::string{"topic must be a str or broker.Topic, not "}
                       + Py_TYPE(t.ptr())->tp_name);
}

std::vector<std::string> topic_list(py::handle ts) {
  std::vector<std::string> result;
  if (PyUnicode_Check(ts.ptr()) || py::isinstance<topic>(ts)) {
    result.push_back(topic_string(ts));
    return result;
  }
  for (auto t : ts)
    result.push_back(topic_string(t));
  return result;
}

void check_user_topic(const std::string& t) {
  if (topic::is_reserved(t))
    throw py::value_error("cannot publish on reserved topic " + t);
}

/// A subscriber plus the conversion mode chosen when it was made.
struct py_subscriber {
  std::unique_ptr<subscriber> impl;
  message_converter conv;

  py_subscriber(std::unique_ptr<subscriber> s, bool safe)
    : impl(std::move(s)), conv(safe) {}

  py::object get(std::optional<double> timeout) {
    // Fast path: a message is waiting; no clock, no GIL release.
    auto msg = impl->poll_one();
    if (!msg) {
      bool ok = wait_interruptibly(deadline_of(timeout), [this](auto slice) {
        return impl->wait_until(slice);
      });
      if (!ok)
        return py::none();
      msg = impl->poll_one();
      if (!msg)
        return py::none();
    }
    PyObject* result = conv.convert(*msg);
    if (result == nullptr)
      throw py::error_already_set();
    return py::reinterpret_steal<py::object>(result);
  }

  py::list get_n(size_t n, std::optional<double> timeout) {
    std::vector<subscriber::message_ptr> acc;
    auto got = impl->poll(n);
    acc.insert(acc.end(), got.begin(), got.end());
    if (acc.size() < n) {
      auto deadline = deadline_of(timeout);
      while (acc.size() < n) {
        if (!wait_interruptibly(deadline, [this](auto slice) {
              return impl->wait_until(slice);
            }))
          break;
        got = impl->poll(n - acc.size());
        acc.insert(acc.end(), got.begin(), got.end());
      }
    }
    return conv.convert_all(std::move(acc), *impl);
  }

  py::list poll() { return conv.convert_all(impl->poll(), *impl); }
};

struct py_status_subscriber {
  std::unique_ptr<status_subscriber> impl;

  static py::object convert(const status_event& ev) {
    if (auto* st = std::get_if<status>(&ev))
      return py::cast(*st);
    return py::cast(std::get<error_event>(ev));
  }

  py::object get(std::optional<double> timeout) {
    bool ok = wait_interruptibly(deadline_of(timeout), [this](auto slice) {
      return impl->wait_until(slice);
    });
    if (!ok)
      return py::none();
    auto evs = impl->poll(1);
    if (evs.empty())
      return py::none();
    return convert(evs[0]);
  }

  py::list get_n(size_t n, std::optional<double> timeout) {
    auto deadline = deadline_of(timeout);
    py::list result;
    while (result.size() < n) {
      for (auto& ev : impl->poll(n - result.size()))
        result.append(convert(ev));
      if (result.size() >= n)
        break;
      if (!wait_interruptibly(deadline, [this](auto slice) {
            return impl->wait_until(slice);
          }))
        break;
    }
    return result;
  }

  py::list poll() {
    py::list result;
    for (auto& ev : impl->poll())
      result.append(convert(ev));
    return result;
  }
};

/// EndpointInfo.network: real Broker's OptionalNetworkInfo, an optional
/// with is_set() and get(). Kept a struct of its own: binding
/// std::optional<network_info> as a class would clash with pybind11/stl.h.
struct optional_network_info {
  std::optional<network_info> value;

  const network_info& get() const {
    if (!value)
      throw py::value_error("no network information (is_set() is False)");
    return *value;
  }

  /// For the forwarded fields: missing, like an attribute of None.
  const network_info& field() const {
    if (!value)
      throw py::attribute_error("no network information (is_set() is False)");
    return *value;
  }
};

/// broker.Configuration: the core's configuration plus real Broker's
/// max_threads, which only the Python API has (real Broker hands it to its
/// actor scheduler).
struct py_configuration : configuration {
  /// An upper bound on the threads that process messages. An endpoint runs
  /// exactly one I/O thread for that, so every positive bound holds.
  int max_threads = 1;
};

} // namespace

void init_endpoint(py::module_& m) {
  py::enum_<sc>(m, "SC", "Status codes (real Broker's values).")
    .value("Unspecified", sc::unspecified)
    .value("PeerAdded", sc::peer_added)
    .value("PeerRemoved", sc::peer_removed)
    .value("PeerLost", sc::peer_lost)
    .value("EndpointDiscovered", sc::endpoint_discovered)
    .value("EndpointUnreachable", sc::endpoint_unreachable);

  py::enum_<peer_status>(m, "PeerStatus")
    .value("Initialized", peer_status::initialized)
    .value("Connecting", peer_status::connecting)
    .value("Connected", peer_status::connected)
    .value("Peered", peer_status::peered)
    .value("Disconnected", peer_status::disconnected)
    .value("Reconnecting", peer_status::reconnecting);

  py::enum_<peer_flags>(m, "PeerFlags", py::arithmetic())
    .value("Invalid", peer_flag_invalid)
    .value("Local", peer_flag_local)
    .value("Remote", peer_flag_remote)
    .value("Outbound", peer_flag_outbound)
    .value("Inbound", peer_flag_inbound);

  py::class_<network_info>(m, "NetworkInfo")
    .def(py::init<>())
    .def_readonly("address", &network_info::address)
    .def_readonly("port", &network_info::port)
    .def_readonly("retry", &network_info::retry)
    .def("__repr__", [](const network_info& x) {
      return "NetworkInfo(" + x.address + ":" + std::to_string(x.port) + ")";
    });

  py::class_<optional_network_info>(m, "OptionalNetworkInfo",
                                    "Network information, when known.")
    .def("is_set",
         [](const optional_network_info& x) { return x.value.has_value(); })
    .def("get", &optional_network_info::get,
         "The NetworkInfo; raises ValueError when there is none.")
    .def("__bool__",
         [](const optional_network_info& x) { return x.value.has_value(); })
    // The NetworkInfo fields, so that `info.network.address` keeps working.
    .def_property_readonly("address",
                           [](const optional_network_info& x) {
                             return x.field().address;
                           })
    .def_property_readonly(
      "port", [](const optional_network_info& x) { return x.field().port; })
    .def_property_readonly(
      "retry", [](const optional_network_info& x) { return x.field().retry; })
    .def("__repr__", [](const optional_network_info& x) -> std::string {
      if (!x.value)
        return "nil";
      return x.value->address + ":" + std::to_string(x.value->port);
    });

  py::class_<endpoint_info>(m, "EndpointInfo")
    .def_property_readonly(
      "node", [](const endpoint_info& x) { return x.node.to_string(); })
    .def("node_id", [](const endpoint_info& x) { return x.node.to_string(); })
    .def_property_readonly(
      "network",
      [](const endpoint_info& x) { return optional_network_info{x.network}; })
    .def_property_readonly(
      "type",
      [](const endpoint_info& x) {
        // Nothing identified: the context of an error with neither node
        // nor address.
        if (x.node.is_nil() && !x.network)
          return "invalid";
        return x.type == endpoint_type::web_socket ? "web-socket" : "native";
      },
      "\"native\" for a Broker endpoint, \"web-socket\" for a WebSocket "
      "client (or the server we are a client of), \"invalid\" when none is "
      "named.")
    .def("__repr__", [](const endpoint_info& x) {
      auto s = "EndpointInfo(" + x.node.to_string();
      if (x.network)
        s += ", " + x.network->address + ":" + std::to_string(x.network->port);
      return s + ")";
    });

  py::class_<peer_info>(m, "PeerInfo")
    .def_readonly("peer", &peer_info::peer)
    .def_property_readonly(
      "flags", [](const peer_info& x) { return static_cast<peer_flags>(x.flags); })
    .def_readonly("status", &peer_info::status);

  py::class_<status>(m, "Status", "A change in the network.")
    .def("code", [](const status& x) { return x.code; })
    .def("context", [](const status& x) { return x.context; })
    .def("message", [](const status& x) { return x.message; })
    .def("__repr__", [](const status& x) {
      return "Status(" + std::string{to_string(x.code)} + ", "
             + x.context.node.to_string() + ", \"" + x.message + "\")";
    });

  py::class_<error_event>(m, "Error", "An error status.")
    .def("code", [](const error_event& x) { return x.code; })
    .def("context", [](const error_event& x) { return x.context; })
    .def("message", [](const error_event& x) { return x.message; })
    .def("__repr__", [](const error_event& x) {
      return "Error(" + std::string{to_string(x.code)} + ", \"" + x.message
             + "\")";
    });

  py::enum_<overflow_policy>(m, "OverflowPolicy")
    .value("Disconnect", overflow_policy::disconnect)
    .value("DropOldest", overflow_policy::drop_oldest)
    .value("DropNewest", overflow_policy::drop_newest);

  py::class_<broker_options> options(m, "BrokerOptions");
  options
    .def(py::init<>())
    .def_readwrite("forward", &broker_options::forward)
    // Real Broker's name for the same switch, inverted: both views read and
    // write the one `forward` option, so they never disagree.
    .def_property(
      "disable_forwarding",
      [](const broker_options& o) { return !o.forward; },
      [](broker_options& o, bool disable) { o.forward = !disable; },
      "Do not relay messages between peers (the inverse of `forward`).")
    .def_readwrite("ttl", &broker_options::ttl)
    .def_readwrite("disable_ssl", &broker_options::disable_ssl)
    .def_readwrite("ignore_broker_conf", &broker_options::ignore_broker_conf)
    .def_property(
      "use_real_time",
      [](const broker_options& o) { return o.use_real_time; },
      [](broker_options& o, bool value) {
        // Simulated time (real Broker's use_real_time=False) is not built:
        // refuse it rather than run on the wall clock regardless.
        if (!value)
          throw py::value_error("use_real_time=False (simulated time) is not "
                                "supported");
        o.use_real_time = value;
      })
    .def_readwrite("peer_buffer_size", &broker_options::peer_buffer_size)
    .def_readwrite("peer_overflow_policy",
                   &broker_options::peer_overflow_policy)
    .def_readwrite("subscriber_overflow_policy",
                   &broker_options::subscriber_overflow_policy,
                   "What a local subscriber whose queue stays full gets.")
    .def_readwrite("bye_timeout", &broker_options::bye_timeout)
    .def_readwrite("web_socket_overflow_policy",
                   &broker_options::web_socket_overflow_policy);
  def_count(options, "max_pending_connections",
            &broker_options::max_pending_connections,
            "Accepted connections that may be in their handshake at once; "
            "beyond it the oldest is dropped.");
  def_count(options, "publish_queue_size", &broker_options::publish_queue_size,
            "Messages local publishers may queue before publish() blocks.");
  def_count(options, "status_queue_size", &broker_options::status_queue_size,
            "Events each status subscriber buffers; beyond it the oldest is "
            "dropped.");
  def_count(options, "web_socket_buffer_size",
            &broker_options::web_socket_buffer_size,
            "Messages buffered per WebSocket connection before "
            "web_socket_overflow_policy applies.");
  def_count(options, "web_socket_max_message_size",
            &broker_options::web_socket_max_message_size,
            "Largest message in bytes a WebSocket client may send; a larger "
            "one closes its connection with 1009.");
  def_count(options, "web_socket_max_clients",
            &broker_options::web_socket_max_clients,
            "WebSocket clients served at once; further connections are "
            "refused.");
  def_seconds(options, "web_socket_ping_interval",
              &broker_options::web_socket_ping_interval, true,
              "Seconds between PINGs to WebSocket peers; one unanswered "
              "when the next is due closes the connection. 0 disables.");
  def_seconds(options, "handshake_timeout", &broker_options::handshake_timeout,
              false,
              "Seconds a new connection may take for its TLS and Broker "
              "handshakes.");
  def_seconds(options, "publish_stall_timeout",
              &broker_options::publish_stall_timeout, true,
              "Seconds a publisher waits while every peer its message goes "
              "to is full, before their overflow policy applies.");
  def_seconds(options, "peer_full_grace", &broker_options::peer_full_grace,
              true,
              "Seconds a peer's buffer may stay full while others have room, "
              "before its overflow policy applies.");

  py::class_<py_configuration>(m, "Configuration")
    .def(py::init<>())
    .def(py::init([](const broker_options& opts) {
           py_configuration cfg;
           cfg.options = opts;
           return cfg;
         }),
         py::arg("options"))
    .def_readwrite("options", &configuration::options)
    .def_property(
      "max_threads", [](const py_configuration& c) { return c.max_threads; },
      [](py_configuration& c, int n) {
        if (n <= 0)
          throw py::value_error("max_threads must be positive, got "
                                + std::to_string(n));
        c.max_threads = n;
      },
      "Upper bound on the threads processing messages (default 1). An "
      "endpoint uses one I/O thread, so any positive value is met.")
    .def_readwrite("openssl_certificate", &configuration::certificate_file)
    .def_readwrite("openssl_key", &configuration::key_file)
    .def_readwrite("openssl_cafile", &configuration::ca_file)
    .def_readwrite("openssl_capath", &configuration::ca_path)
    .def_readwrite("openssl_passphrase", &configuration::passphrase);

  py::class_<py_subscriber>(m, "_Subscriber")
    .def("get", &py_subscriber::get, py::arg("timeout") = py::none())
    .def("get_n", &py_subscriber::get_n, py::arg("n"),
         py::arg("timeout") = py::none())
    .def("poll", &py_subscriber::poll)
    .def("available",
         [](const py_subscriber& s) { return s.impl->available(); })
    .def("fd", [](py_subscriber& s) { return s.impl->fd(); })
    .def("capacity", [](const py_subscriber& s) { return s.impl->capacity(); })
    .def(
      "add_topic",
      [](py_subscriber& s, py::handle t, bool block) {
        auto str = topic_string(t);
        without_gil([&] { s.impl->add_topic(std::move(str), block); });
      },
      py::arg("topic"), py::arg("block") = false)
    .def(
      "remove_topic",
      [](py_subscriber& s, py::handle t, bool block) {
        auto str = topic_string(t);
        without_gil([&] { s.impl->remove_topic(std::move(str), block); });
      },
      py::arg("topic"), py::arg("block") = false)
    .def("reset",
         [](py_subscriber& s) { without_gil([&] { s.impl->reset(); }); });

  py::class_<py_status_subscriber>(m, "_StatusSubscriber")
    .def("get", &py_status_subscriber::get, py::arg("timeout") = py::none())
    .def("get_n", &py_status_subscriber::get_n, py::arg("n"),
         py::arg("timeout") = py::none())
    .def("poll", &py_status_subscriber::poll)
    .def("available",
         [](const py_status_subscriber& s) { return s.impl->available(); })
    .def("fd", [](py_status_subscriber& s) { return s.impl->fd(); })
    .def("reset", [](py_status_subscriber& s) {
      without_gil([&] { s.impl->reset(); });
    });

  py::class_<endpoint>(m, "_Endpoint")
    .def(py::init([](const py_configuration& cfg) {
           return std::make_unique<endpoint>(
             static_cast<const configuration&>(cfg));
         }),
         py::arg("config"))
    .def("node_id", [](const endpoint& e) { return e.node_id().to_string(); })
    .def(
      "listen",
      [](endpoint& e, const std::string& addr, uint16_t port) -> uint16_t {
        auto result = without_gil([&] { return e.listen(addr, port); });
        return result ? *result : 0;
      },
      py::arg("address") = "", py::arg("port") = 0)
    .def(
      "web_socket_listen",
      [](endpoint& e, const std::string& addr, uint16_t port,
         bool events_only) -> uint16_t {
        auto result = without_gil(
          [&] { return e.web_socket_listen(addr, port, events_only); });
        return result ? *result : 0;
      },
      py::arg("address") = "", py::arg("port") = 0,
      py::arg("events_only") = false)
    .def(
      "web_socket_peer",
      [](endpoint& e, const std::string& url, double retry) {
        return without_gil([&] { return e.web_socket_peer(url, retry); });
      },
      py::arg("url"), py::arg("retry") = 10.0)
    .def(
      "web_socket_unpeer",
      [](endpoint& e, const std::string& url) {
        return without_gil([&] { return e.web_socket_unpeer(url); });
      },
      py::arg("url"))
    .def(
      "peer",
      [](endpoint& e, const std::string& addr, uint16_t port, double retry) {
        return without_gil([&] { return e.peer(addr, port, retry); });
      },
      py::arg("address"), py::arg("port"), py::arg("retry") = 10.0)
    .def(
      "peer_nosync",
      [](endpoint& e, const std::string& addr, uint16_t port, double retry) {
        e.peer_nosync(addr, port, retry);
      },
      py::arg("address"), py::arg("port"), py::arg("retry") = 10.0)
    .def(
      "unpeer",
      [](endpoint& e, const std::string& addr, uint16_t port) {
        return without_gil([&] { return e.unpeer(addr, port); });
      },
      py::arg("address"), py::arg("port"))
    .def(
      "unpeer_nosync",
      [](endpoint& e, const std::string& addr, uint16_t port) {
        e.unpeer_nosync(addr, port);
      },
      py::arg("address"), py::arg("port"))
    .def("peers",
         [](endpoint& e) { return without_gil([&] { return e.peers(); }); })
    .def("peer_subscriptions",
         [](endpoint& e) {
           return without_gil([&] { return e.peer_subscriptions(); });
         })
    .def(
      "await_peer",
      [](endpoint& e, const std::string& node, std::optional<double> timeout) {
        auto id = endpoint_id::parse(node);
        if (!id)
          throw py::value_error("not an endpoint id: " + node);
        return wait_interruptibly(deadline_of(timeout), [&](auto slice) {
          return e.await_peer(*id, slice);
        });
      },
      py::arg("node"), py::arg("timeout") = py::none())
    .def(
      "forward",
      [](endpoint& e, py::handle topics) { e.forward(topic_list(topics)); },
      py::arg("topics"))
    .def(
      "publish",
      [](endpoint& e, py::handle t, py::handle value,
         std::optional<std::string> receiver) {
        auto str = topic_string(t);
        check_user_topic(str);
        auto x = to_data(value);
        endpoint_id dst;
        if (receiver) {
          auto id = endpoint_id::parse(*receiver);
          if (!id)
            throw py::value_error("not an endpoint id: " + *receiver);
          dst = *id;
        }
        return without_gil([&] { return e.publish(str, x, dst); });
      },
      py::arg("topic"), py::arg("data"), py::arg("receiver") = py::none())
    .def(
      "publish_batch",
      [](endpoint& e, py::iterable pairs) {
        std::vector<data_message> msgs;
        msgs.reserve(static_cast<size_t>(py::len_hint(pairs)));
        // Batches mostly repeat one topic object: convert and check it once.
        PyObject* last_topic = nullptr;
        std::string topic;
        for (auto item : pairs) {
          bool tuple = PyTuple_Check(item.ptr());
          if (!(tuple || PyList_Check(item.ptr()))
              || PySequence_Fast_GET_SIZE(item.ptr()) != 2)
            throw py::value_error("publish_batch takes (topic, data) pairs");
          PyObject* t = PySequence_Fast_GET_ITEM(item.ptr(), 0);
          PyObject* value = PySequence_Fast_GET_ITEM(item.ptr(), 1);
          if (t != last_topic) {
            topic = topic_string(t);
            check_user_topic(topic);
            last_topic = t;
          }
          msgs.push_back({topic, to_data(value)});
        }
        return without_gil([&] { return e.publish(std::move(msgs)); });
      },
      py::arg("pairs"))
    .def("buffered", &endpoint::buffered)
    .def("capacity", &endpoint::capacity)
    .def("publish_fd", &endpoint::publish_fd)
    .def(
      "make_subscriber",
      [](endpoint& e, py::handle topics, size_t qsize, bool safe) {
        auto ts = topic_list(topics);
        auto sub = without_gil(
          [&] { return e.make_subscriber(std::move(ts), qsize); });
        return py_subscriber{std::move(sub), safe};
      },
      py::arg("topics"), py::arg("qsize") = 20, py::arg("safe") = false)
    .def(
      "make_status_subscriber",
      [](endpoint& e, bool receive_statuses) {
        return py_status_subscriber{without_gil(
          [&] { return e.make_status_subscriber(receive_statuses); })};
      },
      py::arg("receive_statuses") = false)
    .def("shutdown",
         [](endpoint& e) { without_gil([&] { e.shutdown(); }); })
    .def("is_shut_down", &endpoint::is_shut_down);
}

} // namespace broker::python
