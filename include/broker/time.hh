#pragma once

/// Broker's clock types: nanosecond durations and time points.

#include <chrono>
#include <cstdint>

namespace broker {

/// A signed 64-bit count of nanoseconds.
using timespan = std::chrono::duration<int64_t, std::nano>;

/// Nanoseconds since the UNIX epoch, UTC.
using timestamp = std::chrono::time_point<std::chrono::system_clock, timespan>;

/// A setting in (fractional) seconds as a timespan.
inline timespan seconds_to_timespan(double secs) {
  return std::chrono::duration_cast<timespan>(
    std::chrono::duration<double>(secs));
}

} // namespace broker
