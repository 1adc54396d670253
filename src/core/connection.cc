#include "core/connection.hh"

namespace broker::detail {

endpoint_info info_of(const connection& c) {
  endpoint_info result;
  if (c.hs.peer())
    result.node = *c.hs.peer();
  network_info net;
  if (c.origin) {
    net.address = c.origin->address;
    net.port = c.origin->port;
    net.retry = c.origin->retry;
  } else if (c.stream) {
    net.address = c.stream->remote_address();
    net.port = c.stream->remote_port();
  }
  result.network = net;
  return result;
}

} // namespace broker::detail
