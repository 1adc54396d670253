#pragma once

/// A message as subscribers receive it: a topic plus a value.

#include "broker/data.hh"

#include <string>

namespace broker {

struct data_message {
  std::string topic;
  data value;
};

} // namespace broker
