#pragma once

#include <pybind11/pybind11.h>

namespace broker::python {

/// broker.Data, broker.Topic, broker.EC and the converter's type registry.
void init_data(pybind11::module_& m);

/// Endpoints, subscribers, statuses, configuration.
void init_endpoint(pybind11::module_& m);

/// broker.zeek: Zeek's message layouts.
void init_zeek(pybind11::module_& m);

/// Data stores.
void init_store(pybind11::module_& m);

} // namespace broker::python
