#pragma once

// Running C++ without the GIL, safely at interpreter exit.
//
// A daemon thread that re-takes the GIL after finalization began is ended
// with pthread_exit. If that happens inside a destructor (such as
// pybind11's gil_scoped_release), the forced unwind hits a noexcept frame
// and the process aborts ("terminate called without an active exception").
// So we re-take the GIL in ordinary code, and a thread that finds the
// interpreter finalizing parks until the process exits instead.

#include <Python.h>

#include <chrono>
#include <exception>
#include <thread>
#include <type_traits>

namespace broker::python {

inline bool interpreter_finalizing() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

[[noreturn]] inline void park_forever() {
  for (;;)
    std::this_thread::sleep_for(std::chrono::hours(1));
}

/// The interpreter's main thread, which runs finalization itself and must
/// always get the GIL back. Set once at module import.
inline unsigned long& main_thread_ident() {
  static unsigned long ident = 0;
  return ident;
}

inline void retake_gil(PyThreadState* state) {
  if (interpreter_finalizing()
      && PyThread_get_thread_ident() != main_thread_ident())
    park_forever();
  PyEval_RestoreThread(state);
}

/// Calls `f()` with the GIL released and returns its result.
template <class F>
auto without_gil(F&& f) -> decltype(f()) {
  PyThreadState* state = PyEval_SaveThread();
  if constexpr (std::is_void_v<decltype(f())>) {
    try {
      f();
    } catch (...) {
      retake_gil(state);
      throw;
    }
    retake_gil(state);
  } else {
    try {
      auto result = f();
      retake_gil(state);
      return result;
    } catch (...) {
      // Only reached when f() threw (retake_gil does not return by throw).
      retake_gil(state);
      throw;
    }
  }
}

} // namespace broker::python
