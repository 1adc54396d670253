#include "convert.hh"

#include <datetime.h>

#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace broker::python {

namespace {

// -- cached Python types ------------------------------------------------------

// Borrowed for the life of the interpreter: register_types keeps a reference
// to each, and the module is never unloaded.
struct type_cache {
  PyObject* count = nullptr;
  PyObject* port = nullptr;
  PyObject* protocols[4] = {};
  PyObject* enum_type = nullptr;
  PyObject* timespan = nullptr;
  PyObject* timestamp = nullptr;
  PyObject* frozen_table = nullptr;
  PyObject* data_class = nullptr;
  // Classes whose instances carry their Broker value, in a form this
  // converter already understands, in the slot `_value` (Address, Subnet,
  // Set, Table, Vector of broker/_values.py and broker/_containers.py).
  std::vector<PyObject*> value_holders;
  PyObject* ipv4_address = nullptr;
  PyObject* ipv6_address = nullptr;
  PyObject* ipv4_network = nullptr;
  PyObject* ipv6_network = nullptr;
  PyObject* mapping_proxy = nullptr;
  PyObject* utc = nullptr;
  // Interned attribute names.
  PyObject* s_num = nullptr;
  PyObject* s_proto = nullptr;
  PyObject* s_name = nullptr;
  PyObject* s_ns = nullptr;
  PyObject* s_packed = nullptr;
  PyObject* s_network_address = nullptr;
  PyObject* s_prefixlen = nullptr;
  PyObject* s_utcoffset = nullptr;
  PyObject* s_value = nullptr;
};

type_cache types;

bool is_instance(PyObject* obj, PyObject* type) {
  return type != nullptr
         && (Py_TYPE(obj) == reinterpret_cast<PyTypeObject*>(type)
             || PyObject_TypeCheck(obj, reinterpret_cast<PyTypeObject*>(type)));
}

// -- calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms) -------

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (m <= 2));
}

int64_t floor_div(int64_t x, int64_t y) {
  auto q = x / y;
  return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
}

// Nanoseconds to microseconds, rounding half to even (as Python's datetime
// does for float input), so 1700000000123456789 ns gives ...123457 us.
int64_t ns_to_us(int64_t ns) {
  auto q = floor_div(ns, 1000);
  auto r = ns - q * 1000;
  if (r > 500 || (r == 500 && (q & 1)))
    ++q;
  return q;
}

// -- Python -> data -------------------------------------------------------------

// Broker's order, with the common cases (two strings, two integers) decided
// inline instead of through compare()'s variant visit.
inline bool fast_less(const data& x, const data& y) noexcept {
  auto* xs = x.get_if<std::string>();
  auto* ys = y.get_if<std::string>();
  if (xs && ys)
    return *xs < *ys;
  auto* xi = x.get_if<integer>();
  auto* yi = y.get_if<integer>();
  if (xi && yi)
    return *xi < *yi;
  return x < y;
}

class from_py_converter {
public:
  bool convert(PyObject* obj, data& out, int depth);

  void raise() {
    std::string path = "value";
    for (auto i = rev_path_.rbegin(); i != rev_path_.rend(); ++i)
      path += *i;
    PyErr_Format(exc_type_, "%s: %s", path.c_str(), msg_.c_str());
  }

private:
  bool fail(PyObject* exc_type, std::string msg) {
    exc_type_ = exc_type;
    msg_ = std::move(msg);
    return false;
  }

  // Turns the pending Python exception into our failure, keeping its type.
  bool fail_from_python() {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject* exc = PyErr_GetRaisedException();
    PyObject* type = exc ? reinterpret_cast<PyObject*>(Py_TYPE(exc)) : nullptr;
    PyObject* value = exc;
#else
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    Py_XDECREF(tb);
#endif
    std::string msg = "conversion failed";
    if (value != nullptr) {
      if (PyObject* str = PyObject_Str(value)) {
        if (const char* s = PyUnicode_AsUTF8(str))
          msg = s;
        Py_DECREF(str);
      }
      PyErr_Clear();
    }
    PyObject* kind = PyExc_ValueError;
    if (type != nullptr) {
      if (PyErr_GivenExceptionMatches(type, PyExc_TypeError))
        kind = PyExc_TypeError;
      else if (PyErr_GivenExceptionMatches(type, PyExc_OverflowError))
        kind = PyExc_OverflowError;
    }
#if PY_VERSION_HEX >= 0x030C0000
    Py_XDECREF(exc);
#else
    Py_XDECREF(type);
    Py_XDECREF(value);
#endif
    return fail(kind, std::move(msg));
  }

  bool unsupported(PyObject* obj) {
    return fail(PyExc_TypeError,
                std::string{"unsupported type "} + Py_TYPE(obj)->tp_name);
  }

  static std::string short_repr(PyObject* obj) {
    std::string result = "?";
    if (PyObject* r = PyObject_Repr(obj)) {
      if (const char* s = PyUnicode_AsUTF8(r))
        result = s;
      Py_DECREF(r);
    }
    PyErr_Clear();
    if (result.size() > 40)
      result = result.substr(0, 37) + "...";
    return result;
  }

  // `segment` builds the path element only on failure: it may call repr().
  template <class Segment>
  bool nested(PyObject* obj, data& out, int depth, Segment segment) {
    if (convert(obj, out, depth))
      return true;
    rev_path_.push_back(segment());
    return false;
  }

  bool str_bytes(PyObject* obj, std::string& out) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (s == nullptr)
      return fail_from_python();
    out.assign(s, static_cast<size_t>(n));
    return true;
  }

  bool get_attr_i64(PyObject* obj, PyObject* name, int64_t& out) {
    PyObject* v = PyObject_GetAttr(obj, name);
    if (v == nullptr)
      return fail_from_python();
    int overflow = 0;
    auto x = PyLong_AsLongLongAndOverflow(v, &overflow);
    Py_DECREF(v);
    if (overflow != 0)
      return fail(PyExc_OverflowError, "nanoseconds out of int64 range");
    if (x == -1 && PyErr_Occurred())
      return fail_from_python();
    out = x;
    return true;
  }

  bool packed_address(PyObject* addr_obj, address& out) {
    PyObject* packed = PyObject_GetAttr(addr_obj, types.s_packed);
    if (packed == nullptr)
      return fail_from_python();
    bool ok = true;
    char* buf = nullptr;
    Py_ssize_t n = 0;
    if (PyBytes_AsStringAndSize(packed, &buf, &n) != 0)
      ok = fail_from_python();
    else if (n == 4)
      out = address::from_v4(reinterpret_cast<const uint8_t*>(buf));
    else if (n == 16)
      out = address::from_v6(reinterpret_cast<const uint8_t*>(buf));
    else
      ok = fail(PyExc_ValueError, "address must pack to 4 or 16 bytes");
    Py_DECREF(packed);
    return ok;
  }

  bool network(PyObject* obj, data& out) {
    PyObject* net = PyObject_GetAttr(obj, types.s_network_address);
    if (net == nullptr)
      return fail_from_python();
    address addr;
    bool ok = packed_address(net, addr);
    Py_DECREF(net);
    if (!ok)
      return false;
    int64_t len = 0;
    if (!get_attr_i64(obj, types.s_prefixlen, len))
      return false;
    // An IPv6Network keeps v6 semantics even when its address is v4-mapped
    // (::ffff:0:0/96 is raw length 96, i.e. the IPv4 network 0.0.0.0/0).
    bool v6 = is_instance(obj, types.ipv6_network);
    auto sn = v6 ? subnet::from_raw(addr, static_cast<unsigned>(len))
                 : subnet::make(addr, static_cast<unsigned>(len));
    if (!sn || len < 0)
      return fail(PyExc_ValueError, "invalid prefix length");
    out = data{*sn};
    return true;
  }

  bool datetime(PyObject* obj, data& out) {
    int64_t days = days_from_civil(PyDateTime_GET_YEAR(obj),
                                   PyDateTime_GET_MONTH(obj),
                                   PyDateTime_GET_DAY(obj));
    int64_t secs = days * 86400 + PyDateTime_DATE_GET_HOUR(obj) * 3600
                   + PyDateTime_DATE_GET_MINUTE(obj) * 60
                   + PyDateTime_DATE_GET_SECOND(obj);
    int64_t us = PyDateTime_DATE_GET_MICROSECOND(obj);
    PyObject* tz = PyDateTime_DATE_GET_TZINFO(obj);
    if (tz != Py_None) {
      // Aware: subtract the UTC offset. Naive datetimes are UTC (SPEC §2).
      PyObject* off = PyObject_CallMethodNoArgs(obj, types.s_utcoffset);
      if (off == nullptr)
        return fail_from_python();
      if (PyDelta_Check(off)) {
        secs -= int64_t{PyDateTime_DELTA_GET_DAYS(off)} * 86400
                + PyDateTime_DELTA_GET_SECONDS(off);
        us -= PyDateTime_DELTA_GET_MICROSECONDS(off);
      }
      Py_DECREF(off);
    }
    int64_t ns = 0;
    if (__builtin_mul_overflow(secs, int64_t{1000000000}, &ns)
        || __builtin_add_overflow(ns, us * 1000, &ns))
      return fail(PyExc_OverflowError,
                  "datetime out of the int64 nanosecond range");
    out = data{timestamp{timespan{ns}}};
    return true;
  }

  bool timedelta(PyObject* obj, data& out) {
    int64_t secs = int64_t{PyDateTime_DELTA_GET_DAYS(obj)} * 86400
                   + PyDateTime_DELTA_GET_SECONDS(obj);
    int64_t ns = 0;
    if (__builtin_mul_overflow(secs, int64_t{1000000000}, &ns)
        || __builtin_add_overflow(
          ns, int64_t{PyDateTime_DELTA_GET_MICROSECONDS(obj)} * 1000, &ns))
      return fail(PyExc_OverflowError,
                  "timedelta out of the int64 nanosecond range");
    out = data{timespan{ns}};
    return true;
  }

  template <class F>
  bool each_item(PyObject* iterable, F f) {
    PyObject* it = PyObject_GetIter(iterable);
    if (it == nullptr)
      return fail_from_python();
    bool ok = true;
    while (PyObject* item = PyIter_Next(it)) {
      ok = f(item);
      Py_DECREF(item);
      if (!ok)
        break;
    }
    Py_DECREF(it);
    if (ok && PyErr_Occurred())
      return fail_from_python();
    return ok;
  }

  bool mapping(PyObject* obj, data& out, int depth) {
    table xs;
    if (PyDict_Check(obj)) {
      // Convert into a vector, sort once, then build the map from the
      // sorted range (linear): much cheaper than 100 tree insertions.
      std::vector<std::pair<data, data>> entries;
      entries.reserve(static_cast<size_t>(PyDict_GET_SIZE(obj)));
      Py_ssize_t pos = 0;
      PyObject *key = nullptr, *value = nullptr;
      while (PyDict_Next(obj, &pos, &key, &value)) {
        Py_INCREF(key);
        Py_INCREF(value);
        auto& entry = entries.emplace_back();
        bool ok = convert(key, entry.first, depth + 1);
        if (!ok)
          rev_path_.push_back("<key " + short_repr(key) + ">");
        else
          ok = nested(value, entry.second, depth + 1,
                      [key] { return "[" + short_repr(key) + "]"; });
        Py_DECREF(key);
        Py_DECREF(value);
        if (!ok)
          return false;
      }
      // Sort pointers, not the (larger) pairs themselves.
      std::vector<std::pair<data, data>*> order;
      order.reserve(entries.size());
      for (auto& e : entries)
        order.push_back(&e);
      std::stable_sort(order.begin(), order.end(), [](auto* x, auto* y) {
        return fast_less(x->first, y->first);
      });
      for (auto* e : order) {
        // Keys distinct in Python may be equal in Broker (b"a" and "a"):
        // the later one wins, as with repeated assignment.
        if (!xs.empty() && std::prev(xs.end())->first == e->first)
          std::prev(xs.end())->second = std::move(e->second);
        else
          xs.emplace_hint(xs.end(), std::move(e->first), std::move(e->second));
      }
    } else {
      PyObject* items = PyMapping_Items(obj);
      if (items == nullptr)
        return fail_from_python();
      bool ok = true;
      for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(items); ++i) {
        PyObject* kv = PyList_GET_ITEM(items, i);
        ok = PyTuple_Check(kv) && PyTuple_GET_SIZE(kv) == 2
               ? table_entry(xs, PyTuple_GET_ITEM(kv, 0),
                             PyTuple_GET_ITEM(kv, 1), depth)
               : fail(PyExc_TypeError, "mapping items must be pairs");
      }
      Py_DECREF(items);
      if (!ok)
        return false;
    }
    out = data{std::move(xs)};
    return true;
  }

  bool table_entry(table& xs, PyObject* key, PyObject* value, int depth) {
    data k;
    data v;
    if (!convert(key, k, depth + 1)) {
      rev_path_.push_back("<key " + short_repr(key) + ">");
      return false;
    }
    if (!nested(value, v, depth + 1,
                [key] { return "[" + short_repr(key) + "]"; }))
      return false;
    xs.insert_or_assign(std::move(k), std::move(v));
    return true;
  }

  PyObject* exc_type_ = PyExc_TypeError;
  std::string msg_;
  std::vector<std::string> rev_path_;
};

bool from_py_converter::convert(PyObject* obj, data& out, int depth) {
  auto* type = Py_TYPE(obj);
  // Most common types first, by exact type (cheapest check).
  if (type == &PyUnicode_Type) {
    std::string str;
    if (!str_bytes(obj, str))
      return false;
    out = data{std::move(str)};
    return true;
  }
  if (type == &PyLong_Type) {
    int overflow = 0;
    auto x = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow != 0)
      return fail(PyExc_OverflowError,
                  "int out of the int64 range of a Broker integer"
                  " (use broker.Count for unsigned values up to 2**64-1)");
    if (x == -1 && PyErr_Occurred())
      return fail_from_python();
    out = data{integer{x}};
    return true;
  }
  if (type == &PyFloat_Type) {
    out = data{PyFloat_AS_DOUBLE(obj)};
    return true;
  }
  if (obj == Py_True || obj == Py_False) {
    out = data{obj == Py_True};
    return true;
  }
  if (obj == Py_None) {
    out = data{};
    return true;
  }
  if (is_instance(obj, types.count)) {
    auto x = PyLong_AsUnsignedLongLong(obj);
    if (x == static_cast<unsigned long long>(-1) && PyErr_Occurred())
      return fail_from_python();
    out = data{count{x}};
    return true;
  }
  if (type == &PyTuple_Type || type == &PyList_Type || PyTuple_Check(obj)
      || PyList_Check(obj)) {
    if (depth >= max_depth)
      return fail(PyExc_ValueError, "nesting deeper than "
                                      + std::to_string(max_depth) + " levels");
    // Re-read the size and hold each item: converting an element may run
    // Python code (a property, __repr__) that mutates the list.
    vector xs;
    xs.reserve(static_cast<size_t>(PySequence_Fast_GET_SIZE(obj)));
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(obj); ++i) {
      PyObject* item = PySequence_Fast_GET_ITEM(obj, i);
      Py_INCREF(item);
      bool ok = nested(item, xs.emplace_back(), depth + 1,
                       [i] { return "[" + std::to_string(i) + "]"; });
      Py_DECREF(item);
      if (!ok)
        return false;
    }
    out = data{std::move(xs)};
    return true;
  }
  if (PyDict_Check(obj) || is_instance(obj, types.mapping_proxy)) {
    if (depth >= max_depth)
      return fail(PyExc_ValueError, "nesting deeper than "
                                      + std::to_string(max_depth) + " levels");
    return mapping(obj, out, depth);
  }
  if (PyAnySet_Check(obj)) {
    if (depth >= max_depth)
      return fail(PyExc_ValueError, "nesting deeper than "
                                      + std::to_string(max_depth) + " levels");
    std::vector<data> items;
    items.reserve(static_cast<size_t>(PySet_GET_SIZE(obj)));
    bool ok = each_item(obj, [&](PyObject* item) {
      return nested(item, items.emplace_back(), depth + 1,
                    [item] { return "{" + short_repr(item) + "}"; });
    });
    if (!ok)
      return false;
    std::vector<data*> order;
    order.reserve(items.size());
    for (auto& x : items)
      order.push_back(&x);
    std::sort(order.begin(), order.end(),
              [](auto* x, auto* y) { return fast_less(*x, *y); });
    set xs;
    for (auto* x : order)
      if (xs.empty() || !(*std::prev(xs.end()) == *x))
        xs.emplace_hint(xs.end(), std::move(*x));
    out = data{std::move(xs)};
    return true;
  }
  if (PyUnicode_Check(obj)) {
    std::string str;
    if (!str_bytes(obj, str))
      return false;
    out = data{std::move(str)};
    return true;
  }
  if (PyBytes_Check(obj)) {
    out = data{std::string{PyBytes_AS_STRING(obj),
                           static_cast<size_t>(PyBytes_GET_SIZE(obj))}};
    return true;
  }
  if (PyFloat_Check(obj)) {
    out = data{PyFloat_AsDouble(obj)};
    return true;
  }
  if (PyLong_Check(obj)) { // int subclasses such as IntEnum members
    int overflow = 0;
    auto x = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow != 0)
      return fail(PyExc_OverflowError,
                  "int out of the int64 range of a Broker integer");
    if (x == -1 && PyErr_Occurred())
      return fail_from_python();
    out = data{integer{x}};
    return true;
  }
  if (is_instance(obj, types.ipv4_address)
      || is_instance(obj, types.ipv6_address)) {
    address addr;
    if (!packed_address(obj, addr))
      return false;
    out = data{addr};
    return true;
  }
  if (is_instance(obj, types.ipv4_network)
      || is_instance(obj, types.ipv6_network))
    return network(obj, out);
  if (is_instance(obj, types.port)) {
    int64_t num = 0;
    int64_t proto = 0;
    if (!get_attr_i64(obj, types.s_num, num)
        || !get_attr_i64(obj, types.s_proto, proto))
      return false;
    if (num < 0 || num > 65535 || proto < 0 || proto > 3)
      return fail(PyExc_ValueError, "invalid port");
    out = data{port{static_cast<uint16_t>(num),
                    static_cast<port::protocol>(proto)}};
    return true;
  }
  if (is_instance(obj, types.enum_type)) {
    PyObject* name = PyObject_GetAttr(obj, types.s_name);
    if (name == nullptr)
      return fail_from_python();
    std::string str;
    bool ok = PyUnicode_Check(name)
                ? str_bytes(name, str)
                : fail(PyExc_TypeError, "enum name must be a str");
    Py_DECREF(name);
    if (!ok)
      return false;
    out = data{enum_value{std::move(str)}};
    return true;
  }
  if (is_instance(obj, types.timespan)) {
    int64_t ns = 0;
    if (!get_attr_i64(obj, types.s_ns, ns))
      return false;
    out = data{timespan{ns}};
    return true;
  }
  if (is_instance(obj, types.timestamp)) {
    int64_t ns = 0;
    if (!get_attr_i64(obj, types.s_ns, ns))
      return false;
    out = data{timestamp{timespan{ns}}};
    return true;
  }
  if (PyDateTime_Check(obj))
    return datetime(obj, out);
  if (PyDelta_Check(obj))
    return timedelta(obj, out);
  if (is_instance(obj, types.data_class)) {
    out = pybind11::handle{obj}.cast<const data&>();
    return true;
  }
  for (auto* holder : types.value_holders) {
    if (!is_instance(obj, holder))
      continue;
    // Counted as a level of its own: a holder holding itself must not
    // recurse forever.
    if (depth >= max_depth)
      return fail(PyExc_ValueError, "nesting deeper than "
                                      + std::to_string(max_depth) + " levels");
    PyObject* value = PyObject_GetAttr(obj, types.s_value);
    if (value == nullptr)
      return fail_from_python();
    bool ok = convert(value, out, depth + 1);
    Py_DECREF(value);
    return ok;
  }
  return unsupported(obj);
}

// -- data -> Python -------------------------------------------------------------

PyObject* new_string(const std::string& str) {
  auto* result = PyUnicode_DecodeUTF8(str.data(),
                                      static_cast<Py_ssize_t>(str.size()),
                                      nullptr);
  if (result != nullptr)
    return result;
  // Broker strings are byte strings: hand out bytes when not UTF-8.
  PyErr_Clear();
  return PyBytes_FromStringAndSize(str.data(),
                                   static_cast<Py_ssize_t>(str.size()));
}

PyObject* call1(PyObject* callable, PyObject* arg) {
  if (arg == nullptr)
    return nullptr;
  auto* result = PyObject_CallOneArg(callable, arg);
  Py_DECREF(arg);
  return result;
}

PyObject* new_address(const address& addr) {
  auto& b = addr.bytes();
  if (addr.is_v4()) {
    uint32_t v = (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16)
                 | (uint32_t{b[14]} << 8) | b[15];
    return call1(types.ipv4_address, PyLong_FromUnsignedLong(v));
  }
  return call1(types.ipv6_address,
               PyBytes_FromStringAndSize(
                 reinterpret_cast<const char*>(b.data()), 16));
}

PyObject* new_subnet(const subnet& sn) {
  auto* addr = new_address(sn.network());
  if (addr == nullptr)
    return nullptr;
  auto* len = PyLong_FromUnsignedLong(sn.length());
  auto* args = len ? PyTuple_Pack(2, addr, len) : nullptr;
  Py_DECREF(addr);
  Py_XDECREF(len);
  return call1(sn.network().is_v4() ? types.ipv4_network : types.ipv6_network,
               args);
}

PyObject* new_timestamp(timestamp ts) {
  auto us = ns_to_us(ts.time_since_epoch().count());
  auto days = floor_div(us, 86400000000LL);
  auto rem = us - days * 86400000000LL;
  int y, m, d;
  civil_from_days(days, y, m, d);
  auto secs = static_cast<int>(rem / 1000000);
  return PyDateTimeAPI->DateTime_FromDateAndTime(
    y, m, d, secs / 3600, (secs / 60) % 60, secs % 60,
    static_cast<int>(rem % 1000000), types.utc, PyDateTimeAPI->DateTimeType);
}

PyObject* new_timespan(timespan span) {
  auto us = ns_to_us(span.count());
  auto secs = floor_div(us, 1000000);
  auto days = floor_div(secs, 86400);
  return PyDelta_FromDSU(static_cast<int>(days),
                         static_cast<int>(secs - days * 86400),
                         static_cast<int>(us - secs * 1000000));
}

PyObject* collision_error(const char* what, size_t expected, Py_ssize_t got) {
  PyErr_Format(PyExc_ValueError,
               "%zu %s of a Broker %s collapse to %zd in Python because they "
               "compare equal there (e.g. 1, 1.0 and True); use broker.Data "
               "to keep them apart",
               expected, std::strcmp(what, "set") == 0 ? "elements" : "keys",
               what, got);
  return nullptr;
}

struct to_py_visitor {
  bool safe;

  PyObject* operator()(const none&) const { Py_RETURN_NONE; }
  PyObject* operator()(boolean x) const { return PyBool_FromLong(x); }
  PyObject* operator()(count x) const {
    // int's own constructor builds the subclass instance directly, without
    // running Count.__new__ in Python (a received value is in range).
    PyObject* args = PyTuple_New(1);
    if (args == nullptr)
      return nullptr;
    PyObject* v = PyLong_FromUnsignedLongLong(x);
    if (v == nullptr) {
      Py_DECREF(args);
      return nullptr;
    }
    PyTuple_SET_ITEM(args, 0, v);
    PyObject* result = PyLong_Type.tp_new(
      reinterpret_cast<PyTypeObject*>(types.count), args, nullptr);
    Py_DECREF(args);
    return result;
  }
  PyObject* operator()(integer x) const { return PyLong_FromLongLong(x); }
  PyObject* operator()(real x) const { return PyFloat_FromDouble(x); }
  PyObject* operator()(const std::string& x) const { return new_string(x); }
  PyObject* operator()(const address& x) const { return new_address(x); }
  PyObject* operator()(const subnet& x) const { return new_subnet(x); }
  PyObject* operator()(const port& x) const {
    auto* num = PyLong_FromUnsignedLong(x.number());
    if (num == nullptr)
      return nullptr;
    auto* proto = types.protocols[static_cast<int>(x.type()) & 3];
    auto* result = PyObject_CallFunctionObjArgs(types.port, num, proto,
                                                nullptr);
    Py_DECREF(num);
    return result;
  }
  PyObject* operator()(const timestamp& x) const { return new_timestamp(x); }
  PyObject* operator()(const timespan& x) const { return new_timespan(x); }
  PyObject* operator()(const enum_value& x) const {
    return call1(types.enum_type,
                 PyUnicode_DecodeUTF8(x.name.data(),
                                      static_cast<Py_ssize_t>(x.name.size()),
                                      "surrogateescape"));
  }
  PyObject* operator()(const set& xs) const {
    // Set elements must be hashable in Python: always convert them safely.
    PyObject* result = safe ? PyFrozenSet_New(nullptr) : PySet_New(nullptr);
    if (result == nullptr)
      return nullptr;
    for (auto& x : xs) {
      auto* item = to_py(x, true);
      if (item == nullptr || PySet_Add(result, item) != 0) {
        Py_XDECREF(item);
        Py_DECREF(result);
        return nullptr;
      }
      Py_DECREF(item);
    }
    if (static_cast<size_t>(PySet_GET_SIZE(result)) != xs.size()) {
      auto got = PySet_GET_SIZE(result);
      Py_DECREF(result);
      return collision_error("set", xs.size(), got);
    }
    return result;
  }
  PyObject* operator()(const table& xs) const {
    PyObject* result = safe ? PyObject_CallNoArgs(types.frozen_table)
                            : PyDict_New();
    if (result == nullptr)
      return nullptr;
    for (auto& [k, v] : xs) {
      // Keys must be hashable in Python: always convert them safely.
      auto* key = to_py(k, true);
      auto* value = key ? to_py(v, safe) : nullptr;
      // PyDict_SetItem bypasses FrozenTable's read-only __setitem__.
      if (value == nullptr || PyDict_SetItem(result, key, value) != 0) {
        Py_XDECREF(key);
        Py_XDECREF(value);
        Py_DECREF(result);
        return nullptr;
      }
      Py_DECREF(key);
      Py_DECREF(value);
    }
    if (static_cast<size_t>(PyDict_GET_SIZE(result)) != xs.size()) {
      auto got = PyDict_GET_SIZE(result);
      Py_DECREF(result);
      return collision_error("table", xs.size(), got);
    }
    return result;
  }
  PyObject* operator()(const vector& xs) const {
    auto* result = PyTuple_New(static_cast<Py_ssize_t>(xs.size()));
    if (result == nullptr)
      return nullptr;
    Py_ssize_t i = 0;
    for (auto& x : xs) {
      auto* item = to_py(x, safe);
      if (item == nullptr) {
        Py_DECREF(result);
        return nullptr;
      }
      PyTuple_SET_ITEM(result, i++, item);
    }
    return result;
  }
};

PyObject* import_attr(const char* module, const char* name) {
  PyObject* mod = PyImport_ImportModule(module);
  if (mod == nullptr)
    return nullptr;
  PyObject* result = PyObject_GetAttrString(mod, name);
  Py_DECREF(mod);
  return result;
}

} // namespace

bool register_types(PyObject* count, PyObject* port, PyObject* port_protocol,
                    PyObject* enum_type, PyObject* timespan,
                    PyObject* timestamp, PyObject* frozen_table,
                    PyObject* data_class) {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr)
    return false;
  for (auto* obj : {count, port, port_protocol, enum_type, timespan,
                    timestamp, frozen_table, data_class})
    Py_INCREF(obj);
  types.count = count;
  types.port = port;
  types.enum_type = enum_type;
  types.timespan = timespan;
  types.timestamp = timestamp;
  types.frozen_table = frozen_table;
  types.data_class = data_class;
  for (int i = 0; i < 4; ++i) {
    PyObject* arg = PyLong_FromLong(i);
    types.protocols[i] = call1(port_protocol, arg);
    if (types.protocols[i] == nullptr)
      return false;
  }
  types.ipv4_address = import_attr("ipaddress", "IPv4Address");
  types.ipv6_address = import_attr("ipaddress", "IPv6Address");
  types.ipv4_network = import_attr("ipaddress", "IPv4Network");
  types.ipv6_network = import_attr("ipaddress", "IPv6Network");
  types.mapping_proxy = import_attr("types", "MappingProxyType");
  types.utc = PyDateTime_TimeZone_UTC;
  Py_INCREF(types.utc);
  types.s_num = PyUnicode_InternFromString("_num");
  types.s_proto = PyUnicode_InternFromString("_proto");
  types.s_name = PyUnicode_InternFromString("_name");
  types.s_ns = PyUnicode_InternFromString("_ns");
  types.s_packed = PyUnicode_InternFromString("packed");
  types.s_network_address = PyUnicode_InternFromString("network_address");
  types.s_prefixlen = PyUnicode_InternFromString("prefixlen");
  types.s_utcoffset = PyUnicode_InternFromString("utcoffset");
  return types.ipv4_address && types.ipv6_address && types.ipv4_network
         && types.ipv6_network && types.mapping_proxy;
}

bool register_value_holders(PyObject* classes) {
  PyObject* seq = PySequence_Fast(classes, "value holders must be a sequence");
  if (seq == nullptr)
    return false;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    PyObject* cls = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyType_Check(cls)) {
      Py_DECREF(seq);
      PyErr_SetString(PyExc_TypeError, "value holders must be classes");
      return false;
    }
    Py_INCREF(cls);
    types.value_holders.push_back(cls);
  }
  Py_DECREF(seq);
  if (types.s_value == nullptr)
    types.s_value = PyUnicode_InternFromString("_value");
  return types.s_value != nullptr;
}

bool from_py(PyObject* obj, data& out) {
  if (types.count == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "broker types are not registered");
    return false;
  }
  from_py_converter conv;
  if (conv.convert(obj, out, 0))
    return true;
  conv.raise();
  return false;
}

PyObject* to_py(const data& x, bool safe) {
  if (types.count == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "broker types are not registered");
    return nullptr;
  }
  return std::visit(to_py_visitor{safe}, x.get_data());
}

} // namespace broker::python
