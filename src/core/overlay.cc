#include "core/overlay.hh"

#include <algorithm>

namespace broker::detail {

namespace {

// Cached next hops per topic and tree; beyond this many topics the cache
// starts over (bounds memory under many distinct topics).
constexpr size_t max_cached_topics = 4096;

/// Sorted, without duplicates; unlike normalize_filter, entries covered by
/// a shorter prefix stay (wanted_exactly_elsewhere looks for exact topics).
filter_type sorted_unique(filter_type xs) {
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  return xs;
}

} // namespace

overlay::overlay(endpoint_id self) {
  own_.origin = self;
  own_.seq = 1;
}

bool overlay::set_local(filter_type wants, bool forwards) {
  wants = sorted_unique(std::move(wants));
  if (wants == own_.wants && forwards == own_.forwards)
    return false;
  own_.wants = std::move(wants);
  own_.forwards = forwards;
  bump();
  return true;
}

bool overlay::add_neighbour(const endpoint_id& peer) {
  auto& ns = own_.neighbours;
  auto i = std::lower_bound(ns.begin(), ns.end(), peer);
  if (i != ns.end() && *i == peer)
    return false;
  ns.insert(i, peer);
  bump();
  return true;
}

bool overlay::remove_neighbour(const endpoint_id& peer) {
  auto& ns = own_.neighbours;
  auto i = std::lower_bound(ns.begin(), ns.end(), peer);
  if (i == ns.end() || *i != peer)
    return false;
  ns.erase(i);
  bump();
  return true;
}

bool overlay::has_neighbour(const endpoint_id& peer) const noexcept {
  return std::binary_search(own_.neighbours.begin(), own_.neighbours.end(),
                            peer);
}

bool overlay::linked(const endpoint_id& peer) const noexcept {
  if (!has_neighbour(peer))
    return false;
  auto i = others_.find(peer);
  return i != others_.end()
         && std::binary_search(i->second.neighbours.begin(),
                               i->second.neighbours.end(), own_.origin);
}

bool overlay::accept(update x) {
  if (x.origin == own_.origin || x.origin.is_nil())
    return false;
  auto i = others_.find(x.origin);
  if (i != others_.end() && i->second.seq >= x.seq)
    return false;
  std::sort(x.neighbours.begin(), x.neighbours.end());
  x.wants = sorted_unique(std::move(x.wants));
  others_.insert_or_assign(x.origin, std::move(x));
  invalidate();
  return true;
}

std::vector<const overlay::update*> overlay::all() const {
  std::vector<const update*> result;
  result.reserve(others_.size() + 1);
  result.push_back(&own_);
  for (auto& [id, x] : others_)
    result.push_back(&x);
  return result;
}

std::vector<endpoint_id> overlay::links_of(const update& x) const {
  std::vector<endpoint_id> result;
  for (auto& n : x.neighbours) {
    const update* y = nullptr;
    if (n == own_.origin)
      y = &own_;
    else if (auto i = others_.find(n); i != others_.end())
      y = &i->second;
    if (y && std::binary_search(y->neighbours.begin(), y->neighbours.end(),
                                x.origin))
      result.push_back(n);
  }
  return result;
}

const overlay::tree& overlay::tree_of(const endpoint_id& root) {
  if (auto i = trees_.find(root); i != trees_.end())
    return i->second;
  auto& t = trees_[root];
  auto find = [this](const endpoint_id& id) -> const update* {
    if (id == own_.origin)
      return &own_;
    auto i = others_.find(id);
    return i == others_.end() ? nullptr : &i->second;
  };
  if (!find(root))
    return t;
  // Breadth-first, one layer at a time in id order, so that every node's
  // parent is the smallest id among its neighbours one layer closer to the
  // root: the same tree on every endpoint.
  t.parent.emplace(root, root);
  std::vector<endpoint_id> layer{root};
  while (!layer.empty()) {
    std::map<endpoint_id, endpoint_id> next; // child -> parent, id order
    for (auto& x : layer) {
      auto* ux = find(x);
      if (x != root && !ux->forwards)
        continue; // does not relay: a leaf
      for (auto& y : links_of(*ux))
        if (!t.parent.contains(y) && !next.contains(y))
          next.emplace(y, x);
    }
    layer.clear();
    for (auto& [child, parent] : next) {
      t.parent.emplace(child, parent);
      layer.push_back(child);
    }
  }
  auto& self = own_.origin;
  t.contains_self = t.parent.contains(self);
  if (!t.contains_self)
    return t;
  // Our children, and which of them each reached node hangs below.
  std::map<endpoint_id, std::vector<const update*>> below;
  for (auto& [node, parent] : t.parent) {
    if (node == root || node == self)
      continue;
    auto cur = node;
    auto up = parent;
    while (up != self && up != root) {
      cur = up;
      up = t.parent.at(cur);
    }
    if (up == self)
      below[cur].push_back(find(node));
  }
  for (auto& [child, subtree] : below)
    t.children.emplace_back(child, std::move(subtree));
  return t;
}

const std::vector<endpoint_id>&
overlay::next_hops(const endpoint_id& origin, std::string_view topic) {
  auto& t = const_cast<tree&>(tree_of(origin));
  if (!t.contains_self || t.children.empty())
    return none_;
  if (auto i = t.by_topic.find(topic); i != t.by_topic.end())
    return i->second;
  if (t.by_topic.size() >= max_cached_topics)
    t.by_topic.clear();
  std::vector<endpoint_id> hops;
  for (auto& [child, subtree] : t.children)
    for (auto* u : subtree)
      if (filter_matches(u->wants, topic)) {
        hops.push_back(child);
        break;
      }
  return t.by_topic.emplace(std::string{topic}, std::move(hops))
    .first->second;
}

std::optional<endpoint_id> overlay::next_hop_to(const endpoint_id& node) {
  auto& self = own_.origin;
  auto& t = tree_of(self);
  if (node == self || !t.parent.contains(node))
    return std::nullopt;
  auto cur = node;
  for (auto up = t.parent.at(cur); up != self; up = t.parent.at(cur))
    cur = up;
  return cur;
}

std::vector<endpoint_id> overlay::reachable() {
  std::vector<endpoint_id> result;
  auto& self = own_.origin;
  for (auto& [node, parent] : tree_of(self).parent)
    if (node != self)
      result.push_back(node);
  return result;
}

filter_type overlay::wants_of_others(const endpoint_id& except) {
  filter_type result;
  for (auto& node : reachable())
    if (node != except)
      if (auto i = others_.find(node); i != others_.end())
        result.insert(result.end(), i->second.wants.begin(),
                      i->second.wants.end());
  return normalize_filter(std::move(result));
}

bool overlay::wanted_exactly_elsewhere(std::string_view topic) {
  for (auto& node : reachable())
    if (auto i = others_.find(node); i != others_.end())
      for (auto& t : i->second.wants)
        if (t == topic)
          return true;
  return false;
}

} // namespace broker::detail
