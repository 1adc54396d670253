#pragma once

// Conversion between Python objects and broker::data, written against the
// CPython API (no per-element Python loop). The one place that knows the
// mapping of SPEC §2. Every function needs the GIL.

#include <Python.h>

#include "broker/data.hh"

namespace broker::python {

/// Caches the Python classes the converter maps to and from (Count, Port,
/// Enum, Timespan, Timestamp, FrozenTable from broker/_values.py; ipaddress
/// and datetime types). Called once from broker/__init__.py.
/// @returns false with a Python exception set on failure.
bool register_types(PyObject* count, PyObject* port, PyObject* port_protocol,
                    PyObject* enum_type, PyObject* timespan,
                    PyObject* timestamp, PyObject* frozen_table,
                    PyObject* data_class);

/// Adds classes (a sequence) whose instances hold their value in the slot
/// `_value`, in a Python form `from_py` converts (e.g. an ipaddress object, a
/// list of broker.Data). Called once from broker/__init__.py.
/// @returns false with a Python exception set on failure.
bool register_value_holders(PyObject* classes);

/// Nesting limit of conversions, the same as the decoders' so that every
/// value we accept from Python can also be decoded again.
inline constexpr int max_depth = 100;

/// Converts `obj` into `out`.
/// @returns false with a TypeError/ValueError/OverflowError set that names
/// the offending element and its path (e.g. "value[2]['a']: ...").
bool from_py(PyObject* obj, data& out);

/// Converts `x` to a new Python object. `safe` returns immutable, hashable
/// forms (frozenset, FrozenTable, tuple) at every level.
/// @returns a new reference, or nullptr with an exception set.
PyObject* to_py(const data& x, bool safe);

} // namespace broker::python

// pybind11 conveniences over the two functions above, throwing
// py::error_already_set on failure (for the init_*.cc files).
#include <pybind11/pybind11.h>

namespace broker::python {

inline data to_data(pybind11::handle obj) {
  data result;
  if (!from_py(obj.ptr(), result))
    throw pybind11::error_already_set();
  return result;
}

inline pybind11::object to_object(const data& x, bool safe = false) {
  PyObject* obj = to_py(x, safe);
  if (obj == nullptr)
    throw pybind11::error_already_set();
  return pybind11::reinterpret_steal<pybind11::object>(obj);
}

} // namespace broker::python
