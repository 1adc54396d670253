#include "core/connectors.hh"

#include "core/connection.hh"

namespace broker::detail {

void connector::answer(bool peered) {
  auto ws = std::move(waiters);
  waiters.clear();
  for (auto& w : ws)
    w(peered);
}

connector* connector_set::find(const dial_key& key) {
  auto i = map_.find(key);
  return i == map_.end() ? nullptr : i->second.get();
}

connector& connector_set::add(std::string address, uint16_t port,
                              double retry) {
  auto c = std::make_unique<connector>();
  c->address = std::move(address);
  c->port = port;
  c->retry = retry;
  auto& ref = *c;
  map_.emplace(dial_key{ref.address, ref.port}, std::move(c));
  return ref;
}

void connector_set::erase(const connector& c) {
  map_.erase(dial_key{c.address, c.port});
}

void connector_set::append_unpeered(
  std::vector<peer_info>& out,
  const std::function<bool(const endpoint_id&)>& is_peered) const {
  for (auto& [key, c] : map_) {
    if (c->conn && c->conn->peered)
      continue;
    // Resolved as redundant: the peering runs over another connection.
    if (!c->conn && c->peer && is_peered(*c->peer))
      continue;
    peer_info info;
    if (c->peer)
      info.peer.node = *c->peer;
    info.peer.network = network_info{c->address, c->port, c->retry};
    info.status = c->ever_peered ? peer_status::reconnecting
                                 : peer_status::connecting;
    info.flags = peer_flag_remote | peer_flag_outbound;
    out.push_back(std::move(info));
  }
}

void connector_set::cancel_all(net::loop& loop) {
  for (auto& [key, c] : map_) {
    if (c->timer)
      loop.cancel(c->timer);
    c->answer(false);
  }
}

} // namespace broker::detail
