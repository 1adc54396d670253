#pragma once

// BROKER_ASSERT(cond): checks a precondition a header states (such as "I/O
// thread only") in Debug and sanitizer builds, where a broken one aborts
// with its place; release builds compile it away.

#include <cstdio>
#include <cstdlib>

#ifdef NDEBUG
#  define BROKER_ASSERT(cond) static_cast<void>(0)
#else
#  define BROKER_ASSERT(cond)                                                  \
    static_cast<void>((cond)                                                   \
                        ? 0                                                    \
                        : (std::fprintf(stderr, "%s:%d: assertion failed: %s\n", \
                                        __FILE__, __LINE__, #cond),            \
                           std::abort(), 0))
#endif
