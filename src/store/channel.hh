#pragma once

// Reliable, ordered delivery of store commands over unreliable paths, as
// real Broker's channels do (wire-protocol.md §5): the producer numbers
// actions, keeps them until every consumer acknowledged them, answers NACKs
// with retransmissions (or retransmit_failed) and sends a keepalive every
// `heartbeat_interval` ticks; a consumer delivers in order, buffers what
// arrives early, NACKs gaps after `nack_timeout` idle ticks and
// acknowledges cumulatively every heartbeat. Pure logic (no I/O, no
// clock): callers feed it messages and ticks, tests inject loss,
// reordering and duplicates.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace broker::detail {

/// Channel timing, in ticks of 100 ms (real Broker's defaults).
struct channel_settings {
  uint16_t heartbeat_interval = 5;
  uint16_t nack_timeout = 2;
  /// Ticks without any message before a peer is considered gone (10 s).
  uint32_t connection_timeout = 100;
};

/// The sending side. `Payload` is what gets (re)transmitted.
template <class Consumer, class Payload, class Less = std::less<Consumer>>
class channel_producer {
public:
  struct hooks {
    /// Sends `payload` with sequence number `seq` to all consumers.
    std::function<void(uint64_t seq, const Payload&)> send;
    /// Re-sends one buffered payload to `to` only.
    std::function<void(const Consumer& to, uint64_t seq, const Payload&)>
      resend;
    std::function<void(const Consumer& to, uint64_t seq)> retransmit_failed;
    std::function<void(uint64_t seq)> keepalive;
    /// A consumer stopped acknowledging for too long and was dropped.
    std::function<void(const Consumer& who)> consumer_lost;
  };

  explicit channel_producer(hooks h, channel_settings s = {})
    : hooks_(std::move(h)), settings_(s) {}

  /// The last sequence number handed out (the offset for new consumers).
  uint64_t seq() const noexcept { return seq_; }

  void set_offset(uint64_t offset) noexcept { seq_ = offset; }

  /// Adds a consumer that has seen everything up to `acked`.
  void add(const Consumer& who, uint64_t acked) {
    consumers_[who] = path{acked, 0};
  }

  void remove(const Consumer& who) { consumers_.erase(who); trim(); }

  bool has(const Consumer& who) const { return consumers_.count(who) > 0; }

  size_t consumers() const noexcept { return consumers_.size(); }

  /// Numbers, buffers and sends a payload. Without consumers it is dropped
  /// and does not consume a sequence number (as in real Broker): a consumer
  /// attaching later starts at the unchanged offset.
  void produce(Payload payload) {
    if (consumers_.empty())
      return;
    auto seq = ++seq_;
    buf_.emplace(seq, payload);
    hooks_.send(seq, payload);
  }

  void handle_ack(const Consumer& who, uint64_t seq) {
    auto i = consumers_.find(who);
    if (i == consumers_.end())
      return;
    i->second.idle = 0;
    if (seq > i->second.acked)
      i->second.acked = seq;
    trim();
  }

  void handle_nack(const Consumer& who, const std::vector<uint64_t>& seqs) {
    auto i = consumers_.find(who);
    if (i != consumers_.end())
      i->second.idle = 0;
    for (auto seq : seqs) {
      if (auto j = buf_.find(seq); j != buf_.end())
        hooks_.resend(who, seq, j->second);
      else if (seq > 0)
        hooks_.retransmit_failed(who, seq);
    }
  }

  void tick() {
    if (++ticks_ % settings_.heartbeat_interval == 0)
      hooks_.keepalive(seq_);
    std::vector<Consumer> lost;
    for (auto& [who, p] : consumers_)
      if (++p.idle > settings_.connection_timeout)
        lost.push_back(who);
    for (auto& who : lost) {
      consumers_.erase(who);
      hooks_.consumer_lost(who);
    }
    if (!lost.empty())
      trim();
  }

  /// Whether every consumer acknowledged everything.
  bool idle() const {
    for (auto& [who, p] : consumers_)
      if (p.acked < seq_)
        return false;
    return true;
  }

  size_t buffered() const noexcept { return buf_.size(); }

private:
  struct path {
    uint64_t acked;
    uint32_t idle;
  };

  void trim() {
    if (consumers_.empty()) {
      buf_.clear();
      return;
    }
    uint64_t min_acked = UINT64_MAX;
    for (auto& [who, p] : consumers_)
      min_acked = std::min(min_acked, p.acked);
    buf_.erase(buf_.begin(), buf_.upper_bound(min_acked));
  }

  hooks hooks_;
  channel_settings settings_;
  uint64_t seq_ = 0;
  uint64_t ticks_ = 0;
  std::map<Consumer, path, Less> consumers_;
  std::map<uint64_t, Payload> buf_;
};

/// The receiving side for one producer.
template <class Payload>
class channel_consumer {
public:
  struct hooks {
    /// Delivers the next payload in order.
    std::function<void(uint64_t seq, Payload&)> deliver;
    std::function<void(uint64_t seq)> ack;
    std::function<void(std::vector<uint64_t> seqs)> nack;
    /// No message from the producer for too long.
    std::function<void()> producer_lost;
  };

  /// Payloads buffered ahead of a gap, at most.
  static constexpr size_t max_buffered = 100000;

  explicit channel_consumer(hooks h, channel_settings s = {})
    : hooks_(std::move(h)), settings_(s) {}

  /// Starts (or restarts) after everything up to `offset`.
  void reset(uint64_t offset) {
    next_ = offset + 1;
    buf_.clear();
    gap_ticks_ = 0;
    idle_ = 0;
    highest_seen_ = offset;
    lost_ = false;
  }

  /// The last sequence number delivered.
  uint64_t delivered() const noexcept { return next_ - 1; }

  void handle(uint64_t seq, Payload payload) {
    idle_ = 0;
    if (seq < next_)
      return; // duplicate
    if (seq > highest_seen_)
      highest_seen_ = seq;
    if (seq > next_) {
      if (buf_.size() < max_buffered)
        buf_.emplace(seq, std::move(payload));
      return;
    }
    hooks_.deliver(seq, payload);
    ++next_;
    for (auto i = buf_.begin(); i != buf_.end() && i->first == next_;
         i = buf_.erase(i)) {
      hooks_.deliver(i->first, i->second);
      ++next_;
    }
    if (next_ > highest_seen_)
      gap_ticks_ = 0;
  }

  /// The producer says it has sent up to `seq`.
  void handle_keepalive(uint64_t seq) {
    idle_ = 0;
    if (seq > highest_seen_)
      highest_seen_ = seq;
  }

  void tick() {
    if (++ticks_ % settings_.heartbeat_interval == 0)
      hooks_.ack(delivered());
    if (highest_seen_ >= next_) {
      if (++gap_ticks_ >= settings_.nack_timeout) {
        gap_ticks_ = 0;
        std::vector<uint64_t> missing;
        for (auto seq = next_; seq <= highest_seen_ && missing.size() < 1000;
             ++seq)
          if (buf_.count(seq) == 0)
            missing.push_back(seq);
        if (!missing.empty())
          hooks_.nack(std::move(missing));
      }
    }
    if (++idle_ > settings_.connection_timeout && !lost_) {
      lost_ = true;
      hooks_.producer_lost();
    }
  }

  bool lost() const noexcept { return lost_; }

private:
  hooks hooks_;
  channel_settings settings_;
  uint64_t next_ = 1;
  uint64_t highest_seen_ = 0;
  uint64_t ticks_ = 0;
  uint32_t gap_ticks_ = 0;
  uint32_t idle_ = 0;
  bool lost_ = false;
  std::map<uint64_t, Payload> buf_;
};

} // namespace broker::detail
