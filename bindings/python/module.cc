// The one PYBIND11_MODULE: each area registers itself from its init_*.cc.
#include "init.hh"

PYBIND11_MODULE(_broker, m) {
  m.doc() = "C++ core of the broker package (use `import broker`)";
  broker::python::init_data(m);
  broker::python::init_endpoint(m);
}
