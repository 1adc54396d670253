#pragma once

// The overlay among our own endpoints: link-state routing that makes
// messages cross endpoints which neither subscribe nor forward() and reach
// every subscriber exactly once, also in cyclic topologies. Pure logic, no
// I/O, owned by the core's I/O thread (tested in
// tests/cpp/core/overlay_test.cc).
//
// Every endpoint floods an update (format/bin/overlay_update.hh): its id, a
// sequence number, whether it relays, its overlay neighbours and the topics
// it wants. Each endpoint thus knows the same graph. A link counts only when
// both ends list each other. A message from origin O follows O's
// shortest-path tree, computed identically everywhere (breadth-first, ties
// broken by the smaller id); an endpoint passes it to those of its children
// in that tree whose subtree wants the topic. Endpoints that do not relay
// are leaves. Between our endpoints the envelope's sender field carries the
// origin (real Broker puts the last hop there, which the connection already
// tells us); towards real Broker peers it stays the last hop.
//
// Real Broker peers are not part of the graph: each endpoint routes to them
// by their advertised filters, as real Broker does, and includes those
// filters in what it wants, so the overlay brings them their messages.

#include "broker/endpoint_id.hh"
#include "core/filter.hh"
#include "format/bin/overlay_update.hh"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace broker::detail {

class overlay {
public:
  using update = format::bin::overlay_update;

  explicit overlay(endpoint_id self);

  const endpoint_id& self() const noexcept { return own_.origin; }

  // -- our own state -------------------------------------------------------------

  /// Sets the topics we want and whether we relay.
  /// @returns whether our update changed (then flood own()).
  bool set_local(filter_type wants, bool forwards);

  /// A direct peer that speaks overlay updates came or went.
  /// @returns whether our update changed (then flood own()).
  bool add_neighbour(const endpoint_id& peer);
  bool remove_neighbour(const endpoint_id& peer);

  bool has_neighbour(const endpoint_id& peer) const noexcept;

  /// Whether the link to `peer` is up in both directions (its update lists
  /// us): only then does routing to it follow the overlay.
  bool linked(const endpoint_id& peer) const noexcept;

  /// Our current update.
  const update& own() const noexcept { return own_; }

  // -- updates from others -------------------------------------------------------

  /// Stores an update from another endpoint.
  /// @returns whether it was news (newer than what we had): flood it on.
  bool accept(update x);

  /// Every update we know, ours included (for a new neighbour).
  std::vector<const update*> all() const;

  // -- routing -------------------------------------------------------------------

  /// Our overlay neighbours that a message from `origin` on `topic` goes
  /// to next (origin = self() for our own messages). Empty when we are not
  /// in the origin's tree (not converged yet) or no one behind us wants it.
  const std::vector<endpoint_id>& next_hops(const endpoint_id& origin,
                                            std::string_view topic);

  /// Whether we are in `origin`'s tree (false while the overlay has not
  /// converged on a new link, or for origins we do not know).
  bool in_tree_of(const endpoint_id& origin) { return tree_of(origin).contains_self; }

  /// The neighbour on our shortest path to `node`, if reachable.
  std::optional<endpoint_id> next_hop_to(const endpoint_id& node);

  /// Endpoints reachable through the overlay (us excluded).
  std::vector<endpoint_id> reachable();

  /// Union of the topics that reachable endpoints other than `except`
  /// want (what we advertise on their behalf).
  filter_type wants_of_others(const endpoint_id& except);

  /// Whether a reachable endpoint other than us wants exactly `topic`.
  bool wanted_exactly_elsewhere(std::string_view topic);

private:
  struct string_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  /// One origin's shortest-path tree as seen from us.
  struct tree {
    bool contains_self = false;
    /// Our children and, for each, the updates of its whole subtree.
    std::vector<std::pair<endpoint_id, std::vector<const update*>>> children;
    /// Parent of every reached node (the root maps to itself).
    std::unordered_map<endpoint_id, endpoint_id> parent;
    /// Next hops per topic, filled on demand.
    std::unordered_map<std::string, std::vector<endpoint_id>, string_hash,
                       std::equal_to<>>
      by_topic;
  };

  const tree& tree_of(const endpoint_id& root);
  void invalidate() noexcept { trees_.clear(); }
  void bump() noexcept {
    ++own_.seq;
    invalidate();
  }
  /// Neighbours of `x` with a link in both directions.
  std::vector<endpoint_id> links_of(const update& x) const;

  update own_;
  std::map<endpoint_id, update> others_;
  std::unordered_map<endpoint_id, tree> trees_;
  std::vector<endpoint_id> none_;
};

} // namespace broker::detail
