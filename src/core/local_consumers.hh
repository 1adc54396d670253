#pragma once

// Who consumes messages inside this endpoint: subscriber queues (make_
// subscriber) and participants (stores, WebSocket clients), with their
// topics. Delivery to them, backpressure from full subscriber queues to
// the peer that fed them, the overflow policy of a subscriber that stays
// full, and interest flags. Owned by the I/O thread.
//
// Flow control (docs/decisions/0007-flow-control.md): a full subscriber
// queue pauses reading from the peer (or participant) that fed it. When
// that message also had other consumers with room, the subscriber may hold
// the peer for peer_full_grace, counted until its queue runs empty; alone,
// for publish_stall_timeout without progress (draining to half). Beyond
// that it gets subscriber_overflow_policy and the peer reads on.

#include "broker/configuration.hh"
#include "broker/data.hh"
#include "broker/message.hh"
#include "core/connection.hh"
#include "core/filter.hh"
#include "core/participant.hh"
#include "core/queue.hh"
#include "core/statuses.hh"
#include "net/loop.hh"

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace broker::detail {

using subscriber_queue = bounded_queue<data_message_ptr>;

/// Who sent a message that is delivered locally.
struct message_source {
  connection* peer = nullptr; // a peer (held back when a queue fills)
  bool relayed = false; // also forwarded to other peers
  std::optional<participant_id> participant; // never echoed back to it
  bool local_code = false; // local publishers: not to own subscribers
};

class local_consumers {
public:
  local_consumers(const configuration& cfg, net::loop& loop, statuses& st)
    : cfg_(cfg), loop_(loop), statuses_(st) {}

  // -- subscribers ---------------------------------------------------------------

  void add_subscriber(std::shared_ptr<subscriber_queue> q, filter_type topics);
  void add_topic(const std::shared_ptr<subscriber_queue>& q, std::string topic);
  void remove_topic(const std::shared_ptr<subscriber_queue>& q,
                    const std::string& topic);
  void remove_subscriber(const std::shared_ptr<subscriber_queue>& q);

  // -- participants ----------------------------------------------------------------

  participant_id add_participant(filter_type topics, participant_hooks hooks);
  void set_participant_topics(participant_id id, filter_type topics);
  void remove_participant(participant_id id);

  /// A flag kept true while a subscriber's filter matches `topic`.
  void watch(std::string topic, std::shared_ptr<std::atomic<bool>> flag);

  // -- routing -----------------------------------------------------------------------

  /// What this endpoint consumes, for its filter: subscribers' topics
  /// (but local-only ones) and participants'.
  filter_type filter() const;

  /// Whether a participant consumes `topic` (local code's messages go to
  /// participants only).
  bool participant_wants(std::string_view topic) const;

  // -- participants that take every local publication (WebSocket client mode) --
  // Additive to the participant API: a WebSocket client connection sends
  // the remote server everything local code publishes (the server decides
  // what it wants), without advertising any topic to our peers.

  /// Whether a participant has an on_local_publish hook.
  bool takes_local_publications() const;

  /// Hands a data message of local code to the on_local_publish hooks.
  template <class MakeMessage>
  void deliver_local_publication(MakeMessage& make);

  // -- delivery ----------------------------------------------------------------------

  /// Delivers a data message to matching subscribers and participants;
  /// `make` builds the shared message when first needed (null: drop).
  template <class MakeMessage>
  void deliver_data(const std::string& topic, const message_source& from,
                    MakeMessage make);

  void deliver_command(const std::string& topic,
                       std::span<const std::byte> payload,
                       std::optional<participant_id> skip);

  /// Store events and the like: to subscribers only, never held back.
  void deliver_to_subscribers(const std::string& topic, data value);

  /// A subscriber drained its full queue to half (consumer progress).
  void on_progress(const std::shared_ptr<subscriber_queue>& q);

  /// Resumes reading from peers held back for subscribers once no
  /// subscriber queue holds them any more.
  void resume_paused();

  /// A peer that went away is not resumed later.
  void forget(connection* c) { paused_.erase(c); }

  /// Shutting down: queues stop holding back peers (a paused connection
  /// would never read the pong to our BYE) and drop what would overflow.
  void stop_backpressure();

  void close_all();

private:
  /// Refreshes interest flags and tells participants the local topics.
  void local_topics_changed();

  struct subscription {
    std::shared_ptr<subscriber_queue> queue;
    filter_type topics;
    // Since when its full queue holds back a peer (this episode).
    std::optional<std::chrono::steady_clock::time_point> full_since = {};
    bool sole = false;     // nobody else wanted what filled it
    bool dropping = false; // under its overflow policy
  };

  /// Pushes to a subscriber under flow control; false: the subscriber was
  /// closed by the disconnect policy (the caller removes it).
  bool push(subscription& sub, const data_message_ptr& msg,
            const message_source& from, bool others_have_room);
  /// Pushes without waking the consumer; it is woken when the loop's batch
  /// ends (bounded_queue::wake), with everything the batch brought.
  push_result push_quiet(const std::shared_ptr<subscriber_queue>& q,
                         const data_message_ptr& msg);
  /// Gives the policy to subscribers that held a peer too long.
  void check_stalled();
  /// Lets every paused peer and participant read again.
  void resume_all_paused();
  bool holds_peer(const subscription& sub) const;
  struct participant {
    participant_id id;
    filter_type topics;
    participant_hooks hooks;
    bool removed = false; // removed while hooks ran: erased after
  };
  std::vector<subscription> subscribers_;
  // Queues pushed to in this batch, to wake when it ends.
  std::vector<std::shared_ptr<subscriber_queue>> to_wake_;
  std::vector<participant> participants_;
  // A hook may remove participants (a WebSocket session closing itself)
  // while the core loops over them: then removal only marks the entry,
  // and the last scope to end erases it. Adding one from a hook is not
  // allowed (the vector could move the running hook).
  int in_hooks_ = 0;
  struct hook_scope {
    local_consumers& self;
    explicit hook_scope(local_consumers& s) : self(s) { ++self.in_hooks_; }
    ~hook_scope() {
      if (--self.in_hooks_ == 0)
        std::erase_if(self.participants_, [](auto& p) { return p.removed; });
    }
    hook_scope(const hook_scope&) = delete;
    hook_scope& operator=(const hook_scope&) = delete;
  };
  participant_id next_participant_id_ = 1;
  std::vector<std::pair<std::string, std::shared_ptr<std::atomic<bool>>>>
    watches_;
  std::set<connection*> paused_;
  std::set<participant_id> paused_participants_;
  bool backpressure_ = true;
  const configuration& cfg_;
  net::loop& loop_;
  statuses& statuses_;
};

template <class MakeMessage>
void local_consumers::deliver_data(const std::string& topic,
                                   const message_source& from,
                                   MakeMessage make) {
  data_message_ptr msg;
  // What local code publishes does not come back to its own subscribers.
  if (!from.local_code) {
    std::vector<subscription*> targets;
    size_t with_room = 0;
    for (auto& sub : subscribers_) {
      if (!filter_matches(sub.topics, topic))
        continue;
      targets.push_back(&sub);
      if (!sub.queue->full())
        ++with_room;
    }
    if (!targets.empty() && !(msg = make()))
      return;
    bool closed_any = false;
    for (auto* sub : targets) {
      // Whether this message also went to a consumer with room.
      bool others = from.relayed
                    || with_room > (sub->queue->full() ? 0u : 1u);
      if (!push(*sub, msg, from, others))
        closed_any = true;
    }
    if (closed_any)
      std::erase_if(subscribers_, [](auto& s) { return s.queue->closed(); });
  }
  hook_scope scope{*this};
  for (auto& p : participants_) {
    if (p.removed || !p.hooks.on_data || p.id == from.participant
        || !filter_matches(p.topics, topic))
      continue;
    if (!msg && !(msg = make()))
      return;
    p.hooks.on_data(msg, from.local_code);
  }
}

template <class MakeMessage>
void local_consumers::deliver_local_publication(MakeMessage& make) {
  hook_scope scope{*this};
  for (auto& p : participants_) {
    if (p.removed || !p.hooks.on_local_publish)
      continue;
    if (auto msg = make())
      p.hooks.on_local_publish(msg);
  }
}

} // namespace broker::detail
