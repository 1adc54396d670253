// The one PYBIND11_MODULE: each area registers itself from its init_*.cc.
#include "gil.hh"
#include "init.hh"

#include "format/bin/handshake.hh"

PYBIND11_MODULE(_broker, m) {
  m.doc() = "C++ core of the broker package (use `import broker`)";
  broker::python::main_thread_ident() = pybind11::module_::import("threading")
                                          .attr("main_thread")()
                                          .attr("ident")
                                          .cast<unsigned long>();
  // broker.Version reads these (broker/_compat.py). The release comes from
  // the VERSION file through CMake, its single source.
  m.attr("_version") = BROKER_VERSION_STRING;
  m.attr("_protocol_version") = broker::format::bin::protocol_version;
  broker::python::init_data(m);
  broker::python::init_endpoint(m);
  broker::python::init_zeek(m);
  broker::python::init_store(m);
}
