#pragma once

// Peerings the user asked for with peer(): where to dial, how often to
// retry, who waits for the outcome. Owned by the peer manager (I/O thread).

#include "broker/endpoint_id.hh"
#include "broker/peer_info.hh"
#include "net/loop.hh"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace broker::detail {

struct connection;

struct connector {
  std::string address;
  uint16_t port = 0;
  double retry = 0;
  net::loop::timer_id timer = 0;
  connection* conn = nullptr;
  std::optional<endpoint_id> peer;
  std::vector<std::function<void(bool)>> waiters;
  bool ever_peered = false;
  bool unpeering = false;

  /// Tells everyone waiting for the outcome.
  void answer(bool peered);
};

/// Where a connector dials: connectors are keyed by it.
using dial_key = std::pair<std::string, uint16_t>;

class connector_set {
public:
  connector* find(const dial_key& key);

  connector& add(std::string address, uint16_t port, double retry);

  void erase(const connector& c);

  /// The peerings asked for that are not up (connecting, or reconnecting
  /// after a loss), for peers().
  void append_unpeered(std::vector<peer_info>& out,
                       const std::function<bool(const endpoint_id&)>&
                         is_peered) const;

  /// Shutting down: no more retries, and every waiter hears false.
  void cancel_all(net::loop& loop);

  void clear() { map_.clear(); }

private:
  std::map<dial_key, std::unique_ptr<connector>> map_;
};

} // namespace broker::detail
