// The reliable channel (store/channel.hh) on its own: one producer and one or
// more consumers joined by in-memory links that lose, reorder and duplicate
// messages on demand. Time is only ticks, so every case is deterministic.
#include "store/channel.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace broker::detail;

namespace {

using payload = std::string;
using producer_t = channel_producer<int, payload>;
using consumer_t = channel_consumer<payload>;

/// Producer -> consumer traffic.
struct down_msg {
  enum kind_t { data, keepalive } kind;
  uint64_t seq;
  payload value;
  bool resent = false;
};

/// Consumer -> producer traffic.
struct up_msg {
  enum kind_t { ack, nack } kind;
  int from;
  uint64_t seq = 0;
  std::vector<uint64_t> seqs;
};

std::string value_of(uint64_t seq) {
  return "v" + std::to_string(seq);
}

/// A producer, its consumers and the links between them. Sends land in
/// per-link queues; `flush()` carries them over, passing each message
/// through the fault hooks first.
class net {
public:
  explicit net(std::vector<int> ids, channel_settings s = {})
    : settings_(s), producer_(producer_hooks(), s) {
    for (auto id : ids)
      join(id, 0);
  }

  /// Adds a consumer that starts after `offset`.
  void join(int id, uint64_t offset) {
    auto i = consumers_.emplace(id, consumer_t{consumer_hooks(id), settings_})
               .first;
    i->second.reset(offset);
    producer_.add(id, offset);
    ids_.push_back(id);
  }

  // -- faults -----------------------------------------------------------------

  /// Returns true to drop a message travelling to consumer `to`.
  std::function<bool(int to, const down_msg&)> drop_down;
  /// Returns true to drop a message travelling from a consumer.
  std::function<bool(const up_msg&)> drop_up;
  /// Returns how many copies of a message to deliver (default 1).
  std::function<int(int to, const down_msg&)> copies_down;
  /// Permutes a link's queue before delivery.
  std::function<void(std::deque<down_msg>&)> shuffle_down;

  // -- driving ----------------------------------------------------------------

  producer_t& producer() { return producer_; }
  consumer_t& consumer(int id) { return consumers_.at(id); }

  void produce(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i)
      producer_.produce(value_of(producer_.seq() + 1));
  }

  /// Delivers everything in flight (and what that triggers) until quiet.
  void flush() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (auto& [id, q] : down_) {
        if (q.empty())
          continue;
        moved = true;
        auto batch = std::exchange(q, {});
        if (shuffle_down)
          shuffle_down(batch);
        auto* c = consumers_.count(id) ? &consumers_.at(id) : nullptr;
        for (auto& m : batch) {
          if (c == nullptr || (drop_down && drop_down(id, m)))
            continue;
          int n = copies_down ? copies_down(id, m) : 1;
          for (int k = 0; k < n; ++k) {
            if (m.kind == down_msg::data)
              c->handle(m.seq, m.value);
            else
              c->handle_keepalive(m.seq);
          }
        }
      }
      if (!up_.empty()) {
        moved = true;
        auto batch = std::exchange(up_, {});
        for (auto& m : batch) {
          if (drop_up && drop_up(m))
            continue;
          if (m.kind == up_msg::ack)
            producer_.handle_ack(m.from, m.seq);
          else
            producer_.handle_nack(m.from, m.seqs);
        }
      }
      if (!moved)
        return;
    }
    FAIL() << "the network never became quiet";
  }

  /// One tick everywhere, then a flush.
  void tick() {
    producer_.tick();
    for (auto& [id, c] : consumers_)
      c.tick();
    flush();
  }

  /// Ticks until the producer is idle; returns the ticks taken or -1.
  int run_until_idle(int max_ticks = 2000) {
    flush();
    for (int i = 0; i <= max_ticks; ++i) {
      if (producer_.idle() && all_delivered())
        return i;
      tick();
    }
    return -1;
  }

  bool all_delivered() const {
    for (auto& [id, c] : consumers_)
      if (c.delivered() < producer_.seq())
        return false;
    return true;
  }

  // -- observations -----------------------------------------------------------

  std::map<int, std::vector<std::pair<uint64_t, payload>>> delivered;
  std::map<int, std::vector<std::vector<uint64_t>>> nacks;
  std::vector<std::pair<int, uint64_t>> resends;
  std::vector<std::pair<int, uint64_t>> failed;
  std::vector<uint64_t> keepalives;
  std::vector<int> lost_consumers;
  std::map<int, int> producer_lost;
  std::map<int, std::vector<uint64_t>> acks;

  /// Checks that `id` got exactly `first`..`last`, in order, each once.
  void expect_sequence(int id, uint64_t first, uint64_t last) {
    auto& got = delivered[id];
    ASSERT_EQ(got.size(), last - first + 1) << "consumer " << id;
    for (uint64_t seq = first; seq <= last; ++seq) {
      EXPECT_EQ(got[seq - first].first, seq) << "consumer " << id;
      EXPECT_EQ(got[seq - first].second, value_of(seq)) << "consumer " << id;
    }
  }

private:
  producer_t::hooks producer_hooks() {
    producer_t::hooks h;
    h.send = [this](uint64_t seq, const payload& x) {
      for (auto id : ids_)
        down_[id].push_back({down_msg::data, seq, x});
    };
    h.resend = [this](const int& to, uint64_t seq, const payload& x) {
      resends.emplace_back(to, seq);
      down_[to].push_back({down_msg::data, seq, x, true});
    };
    h.retransmit_failed = [this](const int& to, uint64_t seq) {
      failed.emplace_back(to, seq);
    };
    h.keepalive = [this](uint64_t seq) {
      keepalives.push_back(seq);
      for (auto id : ids_)
        down_[id].push_back({down_msg::keepalive, seq, {}});
    };
    h.consumer_lost = [this](const int& who) { lost_consumers.push_back(who); };
    return h;
  }

  consumer_t::hooks consumer_hooks(int id) {
    consumer_t::hooks h;
    h.deliver = [this, id](uint64_t seq, payload& x) {
      delivered[id].emplace_back(seq, x);
    };
    h.ack = [this, id](uint64_t seq) {
      acks[id].push_back(seq);
      up_.push_back({up_msg::ack, id, seq, {}});
    };
    h.nack = [this, id](std::vector<uint64_t> seqs) {
      nacks[id].push_back(seqs);
      up_.push_back({up_msg::nack, id, 0, std::move(seqs)});
    };
    h.producer_lost = [this, id] { ++producer_lost[id]; };
    return h;
  }

  channel_settings settings_;
  producer_t producer_;
  std::map<int, consumer_t> consumers_;
  std::vector<int> ids_;
  std::map<int, std::deque<down_msg>> down_;
  std::deque<up_msg> up_;
};

// -- the happy path -------------------------------------------------------------

TEST(ChannelTest, DeliversInOrderAndAcksTrimTheBuffer) {
  net n{{1}};
  n.produce(10);
  EXPECT_EQ(n.producer().seq(), 10u);
  EXPECT_EQ(n.producer().buffered(), 10u);
  EXPECT_FALSE(n.producer().idle());
  n.flush();
  n.expect_sequence(1, 1, 10);
  EXPECT_EQ(n.consumer(1).delivered(), 10u);
  // The consumer acknowledges every heartbeat_interval ticks: 4 ticks are
  // not enough, the 5th is.
  for (int i = 0; i < 4; ++i)
    n.tick();
  EXPECT_TRUE(n.acks[1].empty());
  EXPECT_EQ(n.producer().buffered(), 10u);
  n.tick();
  EXPECT_EQ(n.acks[1], (std::vector<uint64_t>{10}));
  EXPECT_EQ(n.producer().buffered(), 0u);
  EXPECT_TRUE(n.producer().idle());
  EXPECT_TRUE(n.nacks[1].empty());
  EXPECT_TRUE(n.resends.empty());
}

TEST(ChannelTest, KeepalivesAndAcksFollowTheHeartbeat) {
  net n{{1}};
  n.produce(3);
  for (int i = 0; i < 15; ++i)
    n.tick();
  // Every 5 ticks: the producer's keepalive(last seq), the consumer's
  // cumulative ack, even with nothing new.
  EXPECT_EQ(n.keepalives, (std::vector<uint64_t>{3, 3, 3}));
  EXPECT_EQ(n.acks[1], (std::vector<uint64_t>{3, 3, 3}));
}

TEST(ChannelTest, CustomSettings) {
  channel_settings s;
  s.heartbeat_interval = 2;
  s.nack_timeout = 4;
  s.connection_timeout = 10;
  net n{{1}, s};
  n.drop_down = [](int, const down_msg& m) {
    return m.kind == down_msg::data && m.seq == 1 && !m.resent;
  };
  n.produce(2);
  n.flush();
  EXPECT_TRUE(n.delivered[1].empty());
  for (int i = 0; i < 3; ++i)
    n.tick();
  EXPECT_TRUE(n.nacks[1].empty()) << "NACK before nack_timeout ticks";
  n.tick();
  ASSERT_EQ(n.nacks[1].size(), 1u);
  EXPECT_EQ(n.nacks[1][0], (std::vector<uint64_t>{1}));
  n.expect_sequence(1, 1, 2);
  EXPECT_EQ(n.keepalives.size(), 2u); // ticks 2 and 4
}

// -- acknowledgements -------------------------------------------------------------

TEST(ChannelTest, CumulativeAcksTrimUpToTheSlowestConsumer) {
  net n{{1, 2}};
  n.produce(10);
  auto& p = n.producer();
  EXPECT_EQ(p.buffered(), 10u);
  p.handle_ack(1, 6);
  EXPECT_EQ(p.buffered(), 10u) << "consumer 2 has acknowledged nothing";
  p.handle_ack(2, 3);
  EXPECT_EQ(p.buffered(), 7u); // 4..10
  p.handle_ack(2, 2);          // stale ack: no regression
  EXPECT_EQ(p.buffered(), 7u);
  p.handle_ack(2, 8);
  EXPECT_EQ(p.buffered(), 4u); // 7..10 (consumer 1 is at 6)
  EXPECT_FALSE(p.idle());
  p.handle_ack(3, 10); // unknown consumer: ignored
  EXPECT_EQ(p.buffered(), 4u);
  p.handle_ack(1, 10);
  EXPECT_EQ(p.buffered(), 2u);
  p.handle_ack(2, 10);
  EXPECT_EQ(p.buffered(), 0u);
  EXPECT_TRUE(p.idle());
  // What was trimmed can no longer be retransmitted, what is left can.
  n.produce(2);
  p.handle_ack(1, 11);
  p.handle_nack(2, {11, 12});
  EXPECT_EQ(n.resends, (std::vector<std::pair<int, uint64_t>>{{2, 11}, {2, 12}}));
  EXPECT_TRUE(n.failed.empty());
}

TEST(ChannelTest, NackForATrimmedSequenceNumberFails) {
  net n{{1}};
  n.produce(5);
  n.flush();
  n.producer().handle_ack(1, 5);
  ASSERT_EQ(n.producer().buffered(), 0u);
  n.producer().handle_nack(1, {3, 4});
  EXPECT_EQ(n.failed, (std::vector<std::pair<int, uint64_t>>{{1, 3}, {1, 4}}));
  EXPECT_TRUE(n.resends.empty());
  // nack([0]) is a snapshot request, not a retransmission: never "failed".
  n.failed.clear();
  n.producer().handle_nack(1, {0});
  EXPECT_TRUE(n.failed.empty());
  EXPECT_TRUE(n.resends.empty());
  // Mixed: buffered ones are resent, trimmed ones fail.
  n.produce(2); // 6, 7
  n.producer().handle_nack(1, {5, 6, 7});
  EXPECT_EQ(n.failed, (std::vector<std::pair<int, uint64_t>>{{1, 5}}));
  EXPECT_EQ(n.resends, (std::vector<std::pair<int, uint64_t>>{{1, 6}, {1, 7}}));
}

TEST(ChannelTest, NothingIsSentOrNumberedWithoutConsumers) {
  net n{std::vector<int>{}};
  n.producer().set_offset(1);
  n.produce(5);
  // As in real Broker: dropped, not numbered (a master's first ack_clone
  // keeps offset 1 however many writes came before any clone).
  EXPECT_EQ(n.producer().seq(), 1u);
  EXPECT_EQ(n.producer().buffered(), 0u);
  EXPECT_TRUE(n.producer().idle());
  EXPECT_EQ(n.producer().consumers(), 0u);
  // A consumer joining now starts at the current offset: nothing owed.
  n.join(7, n.producer().seq());
  EXPECT_TRUE(n.producer().has(7));
  EXPECT_TRUE(n.producer().idle());
  n.produce(2);
  EXPECT_FALSE(n.producer().idle());
  EXPECT_EQ(n.producer().buffered(), 2u);
  EXPECT_EQ(n.run_until_idle(), 5);
  n.expect_sequence(7, 2, 3);
  // The last consumer leaving: dropped again, numbering paused.
  n.producer().remove(7);
  n.produce(4);
  EXPECT_EQ(n.producer().seq(), 3u);
  EXPECT_EQ(n.producer().buffered(), 0u);
}

TEST(ChannelTest, IdleTracksEveryConsumer) {
  net n{{1, 2}};
  EXPECT_TRUE(n.producer().idle());
  n.produce(1);
  EXPECT_FALSE(n.producer().idle());
  n.producer().handle_ack(1, 1);
  EXPECT_FALSE(n.producer().idle());
  n.producer().handle_ack(2, 1);
  EXPECT_TRUE(n.producer().idle());
  n.produce(1);
  EXPECT_FALSE(n.producer().idle());
  // Removing the only laggard makes the producer idle and trims.
  n.producer().handle_ack(1, 2);
  EXPECT_EQ(n.producer().buffered(), 1u);
  n.producer().remove(2);
  EXPECT_FALSE(n.producer().has(2));
  EXPECT_TRUE(n.producer().idle());
  EXPECT_EQ(n.producer().buffered(), 0u);
  n.producer().remove(1);
  EXPECT_EQ(n.producer().consumers(), 0u);
  EXPECT_TRUE(n.producer().idle());
}

// -- loss ---------------------------------------------------------------------------

TEST(ChannelTest, LostMessagesAreNackedAndResent) {
  net n{{1}};
  // Every third message is lost on its first transmission.
  n.drop_down = [](int, const down_msg& m) {
    return m.kind == down_msg::data && !m.resent && m.seq % 3 == 0;
  };
  n.produce(4); // 3 lost: 4 waits behind it
  n.flush();
  n.expect_sequence(1, 1, 2);
  EXPECT_EQ(n.consumer(1).delivered(), 2u);
  // No NACK before nack_timeout (2) ticks, then exactly the gap.
  n.tick();
  EXPECT_TRUE(n.nacks[1].empty());
  n.tick();
  ASSERT_EQ(n.nacks[1].size(), 1u);
  EXPECT_EQ(n.nacks[1][0], (std::vector<uint64_t>{3}));
  EXPECT_EQ(n.resends, (std::vector<std::pair<int, uint64_t>>{{1, 3}}));
  n.expect_sequence(1, 1, 4);
  // Many more, interleaved with ticks.
  for (int i = 0; i < 10; ++i) {
    n.produce(3);
    n.tick();
  }
  ASSERT_GE(n.run_until_idle(), 0);
  n.expect_sequence(1, 1, 34);
  EXPECT_EQ(n.producer().buffered(), 0u);
  EXPECT_TRUE(n.failed.empty());
}

TEST(ChannelTest, LostNacksAndResendsAreRetried) {
  net n{{1}};
  int dropped_nacks = 0;
  int dropped_resends = 0;
  n.drop_down = [&](int, const down_msg& m) {
    if (m.kind != down_msg::data)
      return false;
    if (!m.resent)
      return m.seq == 2;
    return dropped_resends++ < 2; // the first two resends vanish too
  };
  n.drop_up = [&](const up_msg& m) {
    return m.kind == up_msg::nack && dropped_nacks++ < 2;
  };
  n.produce(3);
  ASSERT_GE(n.run_until_idle(), 0);
  n.expect_sequence(1, 1, 3);
  // 2 NACKs lost, then 2 resends lost, then the 5th NACK worked.
  EXPECT_EQ(n.nacks[1].size(), 5u);
  for (auto& xs : n.nacks[1])
    EXPECT_EQ(xs, (std::vector<uint64_t>{2}));
  EXPECT_EQ(n.resends.size(), 3u);
}

TEST(ChannelTest, KeepaliveRevealsALostTail) {
  net n{{1}};
  n.drop_down = [](int, const down_msg& m) {
    return m.kind == down_msg::data && !m.resent && m.seq >= 4;
  };
  n.produce(6);
  n.flush();
  n.expect_sequence(1, 1, 3);
  // The consumer cannot know about 4..6 until the keepalive of tick 5.
  for (int i = 0; i < 4; ++i)
    n.tick();
  EXPECT_TRUE(n.nacks[1].empty());
  EXPECT_TRUE(n.keepalives.empty());
  n.tick();
  EXPECT_EQ(n.keepalives, (std::vector<uint64_t>{6}));
  EXPECT_TRUE(n.nacks[1].empty());
  n.tick();
  n.tick();
  ASSERT_EQ(n.nacks[1].size(), 1u);
  EXPECT_EQ(n.nacks[1][0], (std::vector<uint64_t>{4, 5, 6}));
  n.expect_sequence(1, 1, 6);
  EXPECT_EQ(n.run_until_idle(), 3); // the next ack comes with tick 10
  EXPECT_EQ(n.producer().buffered(), 0u);
}

TEST(ChannelTest, OnlyTheLossyConsumerGetsResends) {
  net n{{1, 2, 3}};
  n.drop_down = [](int to, const down_msg& m) {
    return to == 2 && m.kind == down_msg::data && !m.resent && m.seq % 2 == 0;
  };
  n.produce(10);
  ASSERT_GE(n.run_until_idle(), 0);
  for (int id : {1, 2, 3})
    n.expect_sequence(id, 1, 10);
  EXPECT_TRUE(n.nacks[1].empty());
  EXPECT_TRUE(n.nacks[3].empty());
  ASSERT_FALSE(n.resends.empty());
  for (auto& [to, seq] : n.resends) {
    EXPECT_EQ(to, 2);
    EXPECT_EQ(seq % 2, 0u);
  }
}

TEST(ChannelTest, NackListsAreCapped) {
  net n{{1}};
  n.drop_down = [](int, const down_msg& m) {
    return m.kind == down_msg::data && !m.resent && m.seq <= 1500;
  };
  n.produce(1501);
  n.flush();
  EXPECT_TRUE(n.delivered[1].empty());
  n.drop_up = [](const up_msg& m) { return m.kind == up_msg::nack; };
  n.tick();
  n.tick();
  ASSERT_EQ(n.nacks[1].size(), 1u);
  EXPECT_EQ(n.nacks[1][0].size(), 1000u);
  EXPECT_EQ(n.nacks[1][0].front(), 1u);
  EXPECT_EQ(n.nacks[1][0].back(), 1000u);
  n.drop_up = nullptr;
  ASSERT_GE(n.run_until_idle(), 0);
  n.expect_sequence(1, 1, 1501);
}

// -- reordering and duplicates -----------------------------------------------------

TEST(ChannelTest, ReorderedMessagesAreDeliveredInOrder) {
  net n{{1}};
  n.shuffle_down = [](std::deque<down_msg>& q) {
    std::reverse(q.begin(), q.end());
  };
  n.produce(20);
  n.flush();
  // Everything arrived within one flush: no NACK needed.
  n.expect_sequence(1, 1, 20);
  EXPECT_EQ(n.run_until_idle(), 5);
  EXPECT_TRUE(n.nacks[1].empty());
  EXPECT_TRUE(n.resends.empty());
}

TEST(ChannelTest, EarlyMessagesWaitForTheGap) {
  net n{{1}};
  auto& c = n.consumer(1);
  c.handle(3, "v3");
  c.handle(2, "v2");
  EXPECT_TRUE(n.delivered[1].empty());
  EXPECT_EQ(c.delivered(), 0u);
  c.handle(1, "v1");
  n.expect_sequence(1, 1, 3);
  c.handle(5, "v5");
  c.handle(5, "v5"); // duplicate of a buffered one
  c.handle(4, "v4");
  n.expect_sequence(1, 1, 5);
}

TEST(ChannelTest, DuplicatesAreDeliveredOnce) {
  net n{{1, 2}};
  n.copies_down = [](int, const down_msg&) { return 3; };
  n.produce(10);
  ASSERT_GE(n.run_until_idle(), 0);
  n.expect_sequence(1, 1, 10);
  n.expect_sequence(2, 1, 10);
  // Replays of old messages after delivery change nothing.
  n.consumer(1).handle(4, "stale");
  n.consumer(1).handle(0, "zero");
  n.expect_sequence(1, 1, 10);
}

TEST(ChannelTest, UnreliableLinksDeliverEverythingExactlyOnceInOrder) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng{seed};
    std::uniform_real_distribution<double> coin{0.0, 1.0};
    net n{{1, 2, 3}};
    n.drop_down = [&](int, const down_msg&) { return coin(rng) < 0.25; };
    n.drop_up = [&](const up_msg&) { return coin(rng) < 0.25; };
    n.copies_down = [&](int, const down_msg&) {
      return coin(rng) < 0.2 ? 2 : 1;
    };
    n.shuffle_down = [&](std::deque<down_msg>& q) {
      std::shuffle(q.begin(), q.end(), rng);
    };
    for (int round = 0; round < 20; ++round) {
      n.produce(std::uniform_int_distribution<int>{0, 5}(rng));
      n.tick();
    }
    ASSERT_GE(n.run_until_idle(5000), 0);
    auto last = n.producer().seq();
    for (int id : {1, 2, 3})
      n.expect_sequence(id, 1, last);
    EXPECT_EQ(n.producer().buffered(), 0u);
    EXPECT_TRUE(n.failed.empty());
    EXPECT_TRUE(n.lost_consumers.empty());
    EXPECT_TRUE(n.producer_lost.empty());
  }
}

// -- liveness -----------------------------------------------------------------------

TEST(ChannelTest, ProducerLostAfterConnectionTimeout) {
  net n{{1}};
  n.drop_down = [](int, const down_msg&) { return true; }; // silence
  auto& c = n.consumer(1);
  for (int i = 0; i < 100; ++i)
    n.tick();
  EXPECT_FALSE(c.lost());
  EXPECT_EQ(n.producer_lost[1], 0);
  n.tick();
  EXPECT_TRUE(c.lost());
  EXPECT_EQ(n.producer_lost[1], 1);
  for (int i = 0; i < 200; ++i)
    n.tick();
  EXPECT_EQ(n.producer_lost[1], 1) << "reported once";
  // A reset (a new snapshot) revives it.
  c.reset(0);
  EXPECT_FALSE(c.lost());
}

TEST(ChannelTest, KeepalivesKeepTheProducerAlive) {
  net n{{1}};
  for (int i = 0; i < 1000; ++i)
    n.tick();
  EXPECT_EQ(n.producer_lost[1], 0);
  EXPECT_FALSE(n.consumer(1).lost());
  // Data and keepalives both count as signs of life.
  auto& c = n.consumer(1);
  n.drop_down = [](int, const down_msg&) { return true; };
  for (int i = 0; i < 90; ++i)
    n.tick();
  c.handle_keepalive(0);
  for (int i = 0; i < 90; ++i)
    n.tick();
  c.handle(1, "v1");
  for (int i = 0; i < 90; ++i)
    n.tick();
  EXPECT_FALSE(c.lost());
}

TEST(ChannelTest, ConsumerLostAfterConnectionTimeout) {
  net n{{1, 2}};
  n.drop_up = [](const up_msg& m) { return m.from == 2; }; // 2 is silent
  n.produce(5);
  for (int i = 0; i < 100; ++i)
    n.tick();
  EXPECT_TRUE(n.lost_consumers.empty());
  EXPECT_EQ(n.producer().buffered(), 5u) << "consumer 2 holds the buffer";
  EXPECT_FALSE(n.producer().idle());
  n.tick();
  EXPECT_EQ(n.lost_consumers, (std::vector<int>{2}));
  EXPECT_FALSE(n.producer().has(2));
  EXPECT_TRUE(n.producer().has(1));
  EXPECT_EQ(n.producer().consumers(), 1u);
  // Dropping the laggard releases what only it still needed.
  EXPECT_EQ(n.producer().buffered(), 0u);
  EXPECT_TRUE(n.producer().idle());
  for (int i = 0; i < 300; ++i)
    n.tick();
  EXPECT_EQ(n.lost_consumers, (std::vector<int>{2})) << "reported once";
}

TEST(ChannelTest, NacksAlsoKeepAConsumerAlive) {
  net n{{1}};
  n.drop_up = [](const up_msg&) { return true; };
  auto& p = n.producer();
  for (int i = 0; i < 90; ++i)
    n.tick();
  p.handle_nack(1, {});
  for (int i = 0; i < 90; ++i)
    n.tick();
  p.handle_ack(1, 0);
  for (int i = 0; i < 90; ++i)
    n.tick();
  EXPECT_TRUE(n.lost_consumers.empty());
  EXPECT_TRUE(p.has(1));
}

TEST(ChannelTest, ConsumerResetStartsOver) {
  net n{{1}};
  auto& c = n.consumer(1);
  c.handle(5, "v5"); // early, buffered
  c.reset(10);
  EXPECT_EQ(c.delivered(), 10u);
  c.handle(11, "v11");
  ASSERT_EQ(n.delivered[1].size(), 1u);
  EXPECT_EQ(n.delivered[1][0], (std::pair<uint64_t, payload>{11, "v11"}));
  // The stale early message is gone: nothing below the offset is NACKed.
  for (int i = 0; i < 10; ++i)
    c.tick();
  EXPECT_TRUE(n.nacks[1].empty());
}

} // namespace
