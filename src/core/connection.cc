#include "core/connection.hh"

#include "core/connectors.hh"

namespace broker::detail {

std::vector<std::shared_ptr<net::stream>>
pending_streams::admit(const std::shared_ptr<net::stream>& s, size_t cap) {
  // Forget those that finished (peered or closed), then make room.
  std::erase_if(streams_, [](const std::weak_ptr<net::stream>& w) {
    auto sp = w.lock();
    return !sp || sp->closed();
  });
  streams_.push_back(s);
  std::vector<std::shared_ptr<net::stream>> evicted;
  while (streams_.size() > cap) {
    if (auto oldest = streams_.front().lock())
      evicted.push_back(std::move(oldest));
    streams_.pop_front();
  }
  return evicted;
}

void pending_streams::forget(const std::shared_ptr<net::stream>& s) {
  std::erase_if(streams_, [&s](const std::weak_ptr<net::stream>& w) {
    return w.lock() == s;
  });
}

void closing_streams::add(std::shared_ptr<net::stream> s) {
  all_closed(); // forget those that did
  if (!s->closed())
    streams_.push_back(std::move(s));
}

bool closing_streams::all_closed() {
  std::erase_if(streams_, [](auto& s) { return s->closed(); });
  return streams_.empty();
}

void closing_streams::abort_all() {
  for (auto& s : streams_)
    s->abort();
  streams_.clear();
}

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
