// The handshake state machine, driven message by message without sockets.
#include "core/handshake.hh"

#include <gtest/gtest.h>

#include <set>

using namespace broker;
using namespace broker::detail;
namespace bin = broker::format::bin;

namespace {

endpoint_id id_of(uint8_t first) {
  endpoint_id::bytes_type bytes{};
  bytes[0] = first;
  return endpoint_id{bytes};
}

struct side {
  handshake hs;
  handshake::context ctx;
  std::set<endpoint_id> peered;
  std::set<endpoint_id> pending;

  side(handshake::role r, endpoint_id self, filter_type filter) : hs(r) {
    ctx.self = self;
    ctx.filter = [filter] { return filter; };
    ctx.redundant = [this](const endpoint_id& peer, bool include_pending) {
      return peered.count(peer) > 0
             || (include_pending && pending.count(peer) > 0);
    };
  }
};

// Runs a handshake between a connector and an acceptor to completion.
void run(side& c, side& a, std::vector<std::string>* trace = nullptr) {
  std::vector<std::pair<bool, bin::handshake_msg>> wire; // (to acceptor?, msg)
  for (auto& m : c.hs.start(c.ctx).out)
    wire.emplace_back(true, m);
  for (auto& m : a.hs.start(a.ctx).out)
    wire.emplace_back(false, m);
  for (size_t i = 0; i < wire.size() && i < 100; ++i) {
    auto [to_acceptor, msg] = wire[i];
    if (trace)
      trace->push_back(std::string(to_acceptor ? "C->A " : "A->C ")
                       + std::to_string(msg.index()));
    auto& rcv = to_acceptor ? a : c;
    for (auto& out : rcv.hs.handle(rcv.ctx, msg).out)
      wire.emplace_back(!to_acceptor, out);
  }
}

} // namespace

TEST(Handshake, AcceptorWithSmallerIdOriginates) {
  side c{handshake::role::connector, id_of(0xf0), {"/b"}};
  side a{handshake::role::acceptor, id_of(0x10), {"/a"}};
  std::vector<std::string> trace;
  run(c, a, &trace);
  ASSERT_TRUE(c.hs.done());
  ASSERT_TRUE(a.hs.done());
  EXPECT_TRUE(a.hs.originator());
  EXPECT_FALSE(c.hs.originator());
  EXPECT_EQ(c.hs.peer_filter(), filter_type{"/a"});
  EXPECT_EQ(a.hs.peer_filter(), filter_type{"/b"});
  EXPECT_EQ(*c.hs.peer(), id_of(0x10));
  // hello, probe, version_select, originator_syn, syn_ack, ack (golden
  // handshake-listener-smaller.json).
  std::vector<std::string> expected = {"C->A 0", "A->C 1", "A->C 2",
                                       "A->C 4", "C->A 5", "A->C 6"};
  EXPECT_EQ(trace, expected);
}

TEST(Handshake, ConnectorWithSmallerIdOriginates) {
  side c{handshake::role::connector, id_of(0x10), {"/b"}};
  side a{handshake::role::acceptor, id_of(0xf0), {"/a"}};
  std::vector<std::string> trace;
  run(c, a, &trace);
  ASSERT_TRUE(c.hs.done());
  ASSERT_TRUE(a.hs.done());
  EXPECT_TRUE(c.hs.originator());
  // hello, probe, hello, version_select, originator_syn, syn_ack, ack.
  std::vector<std::string> expected = {"C->A 0", "A->C 1", "A->C 0", "C->A 2",
                                       "C->A 4", "A->C 5", "C->A 6"};
  EXPECT_EQ(trace, expected);
}

TEST(Handshake, OriginatorRejectsARedundantConnectionWithCode39) {
  side c{handshake::role::connector, id_of(0xf0), {}};
  side a{handshake::role::acceptor, id_of(0x10), {}};
  a.peered.insert(id_of(0xf0));
  a.hs.start(a.ctx);
  auto step = a.hs.handle(a.ctx, bin::hello_msg{id_of(0xf0), 1, 1});
  ASSERT_TRUE(step.failure);
  ASSERT_EQ(step.out.size(), 1u);
  auto& drop = std::get<bin::drop_conn_msg>(step.out[0]);
  EXPECT_EQ(drop.code, ec::redundant_connection);
  EXPECT_EQ(drop.description, "redundant connection");
}

TEST(Handshake, ResponderRejectsARedundantConnectionWithCode40) {
  side a{handshake::role::acceptor, id_of(0xf0), {}};
  a.peered.insert(id_of(0x10));
  a.hs.start(a.ctx);
  a.hs.handle(a.ctx, bin::hello_msg{id_of(0x10), 1, 1});
  a.hs.handle(a.ctx, bin::version_select_msg{id_of(0x10), 1});
  auto step = a.hs.handle(a.ctx, bin::originator_syn_msg{{}});
  ASSERT_TRUE(step.failure);
  auto& drop = std::get<bin::drop_conn_msg>(step.out.at(0));
  EXPECT_EQ(drop.code, ec::logic_error);
  EXPECT_EQ(drop.description, "detected redundant connection at the responder");
}

TEST(Handshake, ResponderIgnoresPendingHandshakes) {
  // Only the originator resolves races between handshakes in flight.
  side a{handshake::role::acceptor, id_of(0xf0), {}};
  a.pending.insert(id_of(0x10));
  a.hs.start(a.ctx);
  a.hs.handle(a.ctx, bin::hello_msg{id_of(0x10), 1, 1});
  a.hs.handle(a.ctx, bin::version_select_msg{id_of(0x10), 1});
  auto step = a.hs.handle(a.ctx, bin::originator_syn_msg{{}});
  EXPECT_FALSE(step.failure);
}

TEST(Handshake, RejectsUnsupportedVersions) {
  for (auto [lo, hi] : {std::pair{2, 2}, std::pair{0, 0}}) {
    side a{handshake::role::acceptor, id_of(0x10), {}};
    a.hs.start(a.ctx);
    auto step = a.hs.handle(a.ctx, bin::hello_msg{id_of(0x20),
                                                  static_cast<uint8_t>(lo),
                                                  static_cast<uint8_t>(hi)});
    ASSERT_TRUE(step.failure);
    auto& drop = std::get<bin::drop_conn_msg>(step.out.at(0));
    EXPECT_EQ(drop.code, ec::peer_incompatible);
    EXPECT_EQ(drop.description, "unsupported versions offered");
  }
  // A range containing 1 is fine.
  side a{handshake::role::acceptor, id_of(0x10), {}};
  a.hs.start(a.ctx);
  EXPECT_FALSE(a.hs.handle(a.ctx, bin::hello_msg{id_of(0x20), 1, 3}).failure);
}

TEST(Handshake, IgnoresProbesAndRejectsUnexpectedMessages) {
  side a{handshake::role::acceptor, id_of(0x10), {}};
  a.hs.start(a.ctx);
  auto probe = a.hs.handle(a.ctx, bin::probe_msg{});
  EXPECT_TRUE(probe.out.empty());
  EXPECT_FALSE(probe.failure);
  auto step = a.hs.handle(a.ctx, bin::originator_ack_msg{});
  ASSERT_TRUE(step.failure);
  EXPECT_EQ(std::get<bin::drop_conn_msg>(step.out.at(0)).code,
            ec::invalid_message);
}

TEST(Handshake, ReportsADropConnFromThePeer) {
  side c{handshake::role::connector, id_of(0x10), {}};
  c.hs.start(c.ctx);
  auto step = c.hs.handle(
    c.ctx, bin::drop_conn_msg{id_of(0x20), ec::redundant_connection, "x"});
  ASSERT_TRUE(step.failure);
  EXPECT_EQ(step.failure->code(), ec::redundant_connection);
  EXPECT_TRUE(step.out.empty());
  EXPECT_EQ(*c.hs.peer(), id_of(0x20));
}

TEST(Handshake, RefusesToPeerWithItself) {
  side a{handshake::role::acceptor, id_of(0x10), {}};
  a.hs.start(a.ctx);
  EXPECT_TRUE(a.hs.handle(a.ctx, bin::hello_msg{id_of(0x10), 1, 1}).failure);
}
