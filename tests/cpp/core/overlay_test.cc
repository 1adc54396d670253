// The overlay's routing as pure logic: endpoints exchange updates until
// they agree, then a message from one origin is passed along by each
// endpoint's next_hops(). Every endpoint that wants the topic must get it
// exactly once, the origin never, in chains, cycles and meshes.
#include "core/overlay.hh"
#include "format/bin/overlay_update.hh"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>

using namespace broker;
using namespace broker::detail;

namespace {

endpoint_id id_of(uint8_t n) {
  endpoint_id::bytes_type raw{};
  raw[15] = n;
  return endpoint_id{raw};
}

struct network {
  std::vector<std::unique_ptr<overlay>> nodes;
  std::vector<std::pair<int, int>> links;

  explicit network(int n) {
    for (int i = 0; i < n; ++i)
      nodes.push_back(std::make_unique<overlay>(id_of(static_cast<uint8_t>(i + 1))));
  }

  overlay& at(int i) { return *nodes[static_cast<size_t>(i)]; }

  int index_of(const endpoint_id& id) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i]->self() == id)
        return static_cast<int>(i);
    return -1;
  }

  void link(int a, int b) {
    links.emplace_back(a, b);
    at(a).add_neighbour(at(b).self());
    at(b).add_neighbour(at(a).self());
  }

  void unlink(int a, int b) {
    std::erase(links, std::pair{a, b});
    at(a).remove_neighbour(at(b).self());
    at(b).remove_neighbour(at(a).self());
  }

  bool linked(int a, int b) const {
    for (auto& [x, y] : links)
      if ((x == a && y == b) || (x == b && y == a))
        return true;
    return false;
  }

  /// Floods every node's own update over the links (through the codec)
  /// until nothing is news anywhere.
  void converge() {
    std::deque<std::pair<int, format::bin::byte_buffer>> inbox;
    auto send_own = [&](int from) {
      for (size_t to = 0; to < nodes.size(); ++to)
        if (linked(from, static_cast<int>(to))) {
          format::bin::byte_buffer buf;
          format::bin::encode(at(from).own(), buf);
          inbox.emplace_back(static_cast<int>(to), std::move(buf));
        }
    };
    for (size_t i = 0; i < nodes.size(); ++i)
      send_own(static_cast<int>(i));
    for (size_t steps = 0; !inbox.empty(); ++steps) {
      ASSERT_LT(steps, 100000u) << "flooding does not terminate";
      auto [to, buf] = std::move(inbox.front());
      inbox.pop_front();
      auto x = format::bin::decode_overlay_update(buf);
      ASSERT_TRUE(x) << x.error().message();
      auto origin = x->origin;
      if (at(to).accept(std::move(*x))) {
        // Flood it on unchanged: re-encode what we stored.
        for (auto* u : at(to).all())
          if (u->origin == origin)
            for (size_t n = 0; n < nodes.size(); ++n)
              if (linked(to, static_cast<int>(n))) {
                format::bin::byte_buffer b;
                format::bin::encode(*u, b);
                inbox.emplace_back(static_cast<int>(n), std::move(b));
              }
      }
    }
  }

  /// How many copies of a message from `origin` on `topic` each node gets.
  std::map<int, int> deliver(int origin, const std::string& topic) {
    std::map<int, int> got;
    auto origin_id = at(origin).self();
    std::deque<int> pending{origin};
    size_t steps = 0;
    while (!pending.empty() && ++steps < 10000) {
      auto x = pending.front();
      pending.pop_front();
      for (auto& hop : at(x).next_hops(origin_id, topic)) {
        auto y = index_of(hop);
        EXPECT_TRUE(linked(x, y)) << "next hop is not a neighbour";
        ++got[y];
        pending.push_back(y);
      }
    }
    return got;
  }

  void want(int i, filter_type topics, bool forwards = true) {
    at(i).set_local(std::move(topics), forwards);
  }
};

/// Everyone but the origin wants "/t"; each must get one copy.
void expect_exactly_once(network& net) {
  for (size_t i = 0; i < net.nodes.size(); ++i)
    net.want(static_cast<int>(i), {"/t"});
  net.converge();
  for (size_t o = 0; o < net.nodes.size(); ++o) {
    auto got = net.deliver(static_cast<int>(o), "/t/x");
    for (size_t i = 0; i < net.nodes.size(); ++i)
      EXPECT_EQ(got[static_cast<int>(i)], i == o ? 0 : 1)
        << "node " << i << ", origin " << o;
  }
}

} // namespace

TEST(overlay, codec_roundtrip_and_rejects_garbage) {
  format::bin::overlay_update x;
  x.origin = id_of(7);
  x.seq = 42;
  x.forwards = false;
  x.neighbours = {id_of(1), id_of(2)};
  x.wants = {"/a", "/b/c"};
  format::bin::byte_buffer buf;
  format::bin::encode(x, buf);
  ASSERT_TRUE(format::bin::is_overlay_update(buf));
  auto y = format::bin::decode_overlay_update(buf);
  ASSERT_TRUE(y);
  EXPECT_EQ(*y, x);
  for (size_t n = 0; n < buf.size(); ++n) {
    auto cut = std::span{buf.data(), n};
    EXPECT_FALSE(format::bin::decode_overlay_update(cut)) << n;
  }
  buf.push_back(std::byte{0});
  EXPECT_FALSE(format::bin::decode_overlay_update(buf));
}

TEST(overlay, chain_relays_through_a_node_that_wants_nothing) {
  network net{3};
  net.link(0, 1);
  net.link(1, 2);
  net.want(2, {"/t"});
  net.converge();
  auto got = net.deliver(0, "/t/x");
  EXPECT_EQ(got[1], 1); // B relays (its application does not see it)
  EXPECT_EQ(got[2], 1);
  EXPECT_EQ(got[0], 0);
  EXPECT_TRUE(net.deliver(0, "/other").empty());
  EXPECT_EQ(net.at(0).next_hop_to(net.at(2).self()), net.at(1).self());
  EXPECT_EQ(net.at(0).reachable().size(), 2u);
  EXPECT_TRUE(net.at(0).wanted_exactly_elsewhere("/t"));
  EXPECT_EQ(net.at(0).wants_of_others(net.at(1).self()), filter_type{"/t"});
}

TEST(overlay, a_node_that_does_not_forward_is_a_leaf) {
  network net{3};
  net.link(0, 1);
  net.link(1, 2);
  net.want(1, {}, false);
  net.want(2, {"/t"});
  net.converge();
  EXPECT_TRUE(net.deliver(0, "/t/x").empty());
  EXPECT_FALSE(net.at(0).next_hop_to(net.at(2).self()));
}

TEST(overlay, triangle) {
  network net{3};
  net.link(0, 1);
  net.link(1, 2);
  net.link(2, 0);
  expect_exactly_once(net);
}

TEST(overlay, square_with_a_diagonal) {
  network net{4};
  net.link(0, 1);
  net.link(1, 2);
  net.link(2, 3);
  net.link(3, 0);
  net.link(0, 2);
  expect_exactly_once(net);
}

TEST(overlay, ring_of_five) {
  network net{5};
  for (int i = 0; i < 5; ++i)
    net.link(i, (i + 1) % 5);
  expect_exactly_once(net);
}

TEST(overlay, full_mesh_of_five) {
  network net{5};
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j)
      net.link(i, j);
  expect_exactly_once(net);
}

TEST(overlay, a_lost_link_reroutes) {
  network net{4};
  for (int i = 0; i < 4; ++i)
    net.link(i, (i + 1) % 4);
  expect_exactly_once(net);
  net.unlink(0, 1);
  net.converge();
  auto got = net.deliver(0, "/t/x");
  EXPECT_EQ(got[1], 1);
  EXPECT_EQ(got[2], 1);
  EXPECT_EQ(got[3], 1);
  EXPECT_EQ(net.at(0).next_hop_to(net.at(1).self()), net.at(3).self());
}

TEST(overlay, old_updates_are_not_news) {
  network net{2};
  net.link(0, 1);
  net.converge();
  auto stale = net.at(1).own();
  net.want(1, {"/new"});
  net.converge();
  EXPECT_FALSE(net.at(0).accept(stale));
  EXPECT_TRUE(net.at(0).wanted_exactly_elsewhere("/new"));
}
