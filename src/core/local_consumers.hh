#pragma once

// Who consumes messages inside this endpoint: subscriber queues (make_
// subscriber) and participants (stores, WebSocket clients), with their
// topics. Delivery to them, backpressure from full subscriber queues to
// the peer that fed them, and interest flags. Owned by the I/O thread.

#include "broker/data.hh"
#include "broker/message.hh"
#include "core/connection.hh"
#include "core/filter.hh"
#include "core/participant.hh"
#include "core/queue.hh"

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
  std::optional<participant_id> participant; // never echoed back to it
  bool local_code = false; // local publishers: not to own subscribers
};

class local_consumers {
public:
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

  /// Resumes reading from peers held back for subscribers once no
  /// subscriber queue is full any more.
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
  };
  struct participant {
    participant_id id;
    filter_type topics;
    participant_hooks hooks;
  };
  std::vector<subscription> subscribers_;
  std::vector<participant> participants_;
  participant_id next_participant_id_ = 1;
  std::vector<std::pair<std::string, std::shared_ptr<std::atomic<bool>>>>
    watches_;
  std::set<connection*> paused_;
  bool backpressure_ = true;
};

template <class MakeMessage>
void local_consumers::deliver_data(const std::string& topic,
                                   const message_source& from,
                                   MakeMessage make) {
  data_message_ptr msg;
  // What local code publishes does not come back to its own subscribers.
  if (!from.local_code) {
    for (auto& sub : subscribers_) {
      if (!filter_matches(sub.topics, topic))
        continue;
      if (!backpressure_ && sub.queue->full())
        continue; // closing anyway: drop rather than grow
      if (!msg && !(msg = make()))
        return;
      if (sub.queue->push(msg) == push_result::now_full && from.peer
          && backpressure_) {
        // Stop reading from this peer until the subscriber catches up
        // (resume_paused runs when its queue drains).
        from.peer->stream->pause_reading();
        paused_.insert(from.peer);
      }
    }
  }
  for (auto& p : participants_) {
    if (!p.hooks.on_data || p.id == from.participant
        || !filter_matches(p.topics, topic))
      continue;
    if (!msg && !(msg = make()))
      return;
    p.hooks.on_data(msg, from.local_code);
  }
}

} // namespace broker::detail
