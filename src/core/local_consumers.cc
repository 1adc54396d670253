#include "core/local_consumers.hh"

#include "util/assert.hh"

#include <algorithm>

namespace broker::detail {

void local_consumers::add_subscriber(std::shared_ptr<subscriber_queue> q,
                                     filter_type topics) {
  subscribers_.push_back({std::move(q), normalize_filter(std::move(topics))});
  local_topics_changed();
}

void local_consumers::add_topic(const std::shared_ptr<subscriber_queue>& q,
                                std::string topic) {
  for (auto& sub : subscribers_)
    if (sub.queue == q) {
      auto xs = sub.topics;
      xs.push_back(topic);
      sub.topics = normalize_filter(std::move(xs));
    }
  local_topics_changed();
}

void local_consumers::remove_topic(const std::shared_ptr<subscriber_queue>& q,
                                   const std::string& topic) {
  for (auto& sub : subscribers_)
    if (sub.queue == q)
      std::erase(sub.topics, topic);
  local_topics_changed();
}

void local_consumers::remove_subscriber(
  const std::shared_ptr<subscriber_queue>& q) {
  std::erase_if(subscribers_,
                [&](const subscription& s) { return s.queue == q; });
  local_topics_changed();
  resume_paused();
}

participant_id local_consumers::add_participant(filter_type topics,
                                                participant_hooks hooks) {
  BROKER_ASSERT(in_hooks_ == 0);
  auto id = next_participant_id_++;
  participants_.push_back(
    {id, normalize_filter(std::move(topics)), std::move(hooks)});
  hook_scope scope{*this};
  if (auto& hook = participants_.back().hooks.on_local_topics) {
    filter_type local;
    for (auto& sub : subscribers_)
      local.insert(local.end(), sub.topics.begin(), sub.topics.end());
    hook(normalize_filter(std::move(local)));
  }
  return id;
}

void local_consumers::set_participant_topics(participant_id id,
                                             filter_type topics) {
  for (auto& p : participants_)
    if (p.id == id)
      p.topics = normalize_filter(std::move(topics));
}

void local_consumers::remove_participant(participant_id id) {
  paused_participants_.erase(id);
  if (in_hooks_ == 0) {
    std::erase_if(participants_, [id](auto& p) { return p.id == id; });
    return;
  }
  for (auto& p : participants_)
    if (p.id == id)
      p.removed = true;
}

void local_consumers::watch(std::string topic,
                            std::shared_ptr<std::atomic<bool>> flag) {
  watches_.emplace_back(std::move(topic), std::move(flag));
  local_topics_changed();
}

filter_type local_consumers::filter() const {
  filter_type result;
  for (auto& p : participants_)
    if (!p.removed)
      result.insert(result.end(), p.topics.begin(), p.topics.end());
  for (auto& sub : subscribers_)
    for (auto& t : sub.topics)
      if (!is_local_only(t))
        result.push_back(t);
  return normalize_filter(std::move(result));
}

bool local_consumers::participant_wants(std::string_view topic) const {
  return std::any_of(participants_.begin(), participants_.end(),
                     [&](auto& p) { return filter_matches(p.topics, topic); });
}

bool local_consumers::takes_local_publications() const {
  return std::any_of(participants_.begin(), participants_.end(),
                     [](auto& p) { return bool{p.hooks.on_local_publish}; });
}

void local_consumers::deliver_command(const std::string& topic,
                                      std::span<const std::byte> payload,
                                      std::optional<participant_id> skip) {
  hook_scope scope{*this};
  for (auto& p : participants_) {
    if (p.removed || !p.hooks.on_command || p.id == skip
        || !filter_matches(p.topics, topic))
      continue;
    p.hooks.on_command(command_message{topic, {payload.begin(), payload.end()}});
  }
}

void local_consumers::deliver_to_subscribers(const std::string& topic,
                                             data value) {
  data_message_ptr msg;
  for (auto& sub : subscribers_) {
    if (!filter_matches(sub.topics, topic))
      continue;
    if (!msg)
      msg = std::make_shared<data_message>(data_message{topic, std::move(value)});
    push_quiet(sub.queue, msg);
  }
}

push_result
local_consumers::push_quiet(const std::shared_ptr<subscriber_queue>& q,
                            const data_message_ptr& msg) {
  if (to_wake_.empty())
    loop_.defer([this] {
      for (auto& x : to_wake_)
        x->wake();
      to_wake_.clear();
    });
  if (to_wake_.empty() || to_wake_.back() != q)
    to_wake_.push_back(q);
  return q->push(msg, false);
}

bool local_consumers::push(subscription& sub, const data_message_ptr& msg,
                           const message_source& from,
                           bool others_have_room) {
  auto& q = *sub.queue;
  if (!backpressure_) {
    // Closing anyway: drop rather than grow.
    if (!q.full())
      push_quiet(sub.queue, msg);
    return true;
  }
  if (sub.full_since && q.size() == 0) {
    // The consumer caught up: the episode is over.
    sub.full_since.reset();
    sub.dropping = false;
  }
  if (sub.dropping && q.size() >= q.capacity()) {
    switch (cfg_.options.subscriber_overflow_policy) {
      case overflow_policy::drop_newest:
        return true;
      case overflow_policy::drop_oldest:
        q.push_drop_oldest(msg);
        return true;
      case overflow_policy::disconnect:
        q.close();
        return false;
    }
  }
  if (push_quiet(sub.queue, msg) != push_result::now_full || sub.dropping)
    return true;
  if (!sub.full_since) {
    sub.full_since = std::chrono::steady_clock::now();
    sub.sole = !others_have_room;
    auto limit = sub.sole ? cfg_.options.publish_stall_timeout
                          : cfg_.options.peer_full_grace;
    loop_.schedule(seconds_to_timespan(limit), [this] { check_stalled(); });
  }
  if (from.peer) {
    // Stop reading from this peer until the subscriber catches up
    // (on_progress) or its time is up (check_stalled).
    from.peer->stream->pause_reading();
    paused_.insert(from.peer);
  } else if (from.participant) {
    // The same for a participant's input (a WebSocket client).
    for (auto& p : participants_) {
      if (p.id != *from.participant)
        continue;
      if (!p.removed && p.hooks.pause_input) {
        p.hooks.pause_input();
        paused_participants_.insert(p.id);
      }
      break;
    }
  }
  return true;
}

void local_consumers::check_stalled() {
  auto now = std::chrono::steady_clock::now();
  bool closed_any = false;
  for (auto& sub : subscribers_) {
    if (!sub.full_since || sub.dropping || !sub.queue->full())
      continue;
    auto limit = seconds_to_timespan(sub.sole
                                       ? cfg_.options.publish_stall_timeout
                                       : cfg_.options.peer_full_grace);
    if (now - *sub.full_since < limit)
      continue;
    auto policy = cfg_.options.subscriber_overflow_policy;
    std::string what = policy == overflow_policy::disconnect
                         ? "closed the subscriber"
                       : policy == overflow_policy::drop_newest
                         ? "dropping the newest messages for it"
                         : "dropping the oldest messages for it";
    std::string topics;
    for (auto& t : sub.topics)
      topics += (topics.empty() ? "" : ", ") + t;
    // Once per episode (until the consumer catches up).
    statuses_.emit_error(ec::peer_timeout, endpoint_info{},
                         "subscriber queue full (qsize "
                           + std::to_string(sub.queue->capacity())
                           + ", topics " + topics + "): " + what);
    sub.dropping = true;
    if (policy == overflow_policy::disconnect) {
      sub.queue->close();
      closed_any = true;
    }
  }
  if (closed_any)
    std::erase_if(subscribers_, [](auto& s) { return s.queue->closed(); });
  resume_paused();
}

void local_consumers::on_progress(const std::shared_ptr<subscriber_queue>& q) {
  for (auto& sub : subscribers_)
    if (sub.queue == q && sub.sole && !sub.dropping)
      sub.full_since.reset(); // progress: it is not stuck
  resume_paused();
}

bool local_consumers::holds_peer(const subscription& sub) const {
  return sub.queue->full() && !sub.dropping;
}

void local_consumers::resume_paused() {
  for (auto& sub : subscribers_)
    if (holds_peer(sub))
      return;
  resume_all_paused();
}

void local_consumers::stop_backpressure() {
  backpressure_ = false;
  resume_all_paused();
}

void local_consumers::resume_all_paused() {
  auto paused = std::move(paused_);
  paused_.clear();
  for (auto* c : paused)
    if (!c->gone)
      c->stream->resume_reading();
  auto ids = std::move(paused_participants_);
  paused_participants_.clear();
  hook_scope scope{*this};
  for (auto& p : participants_)
    if (ids.count(p.id) && !p.removed && p.hooks.resume_input)
      p.hooks.resume_input();
}

void local_consumers::close_all() {
  for (auto& sub : subscribers_)
    sub.queue->close();
}

void local_consumers::local_topics_changed() {
  for (auto& [topic, flag] : watches_) {
    bool wanted = std::any_of(subscribers_.begin(), subscribers_.end(),
                              [&](auto& s) {
                                return filter_matches(s.topics, topic);
                              });
    flag->store(wanted, std::memory_order_relaxed);
  }
  if (std::none_of(participants_.begin(), participants_.end(),
                   [](auto& p) { return bool{p.hooks.on_local_topics}; }))
    return;
  filter_type topics;
  for (auto& sub : subscribers_)
    topics.insert(topics.end(), sub.topics.begin(), sub.topics.end());
  topics = normalize_filter(std::move(topics));
  hook_scope scope{*this};
  for (auto& p : participants_)
    if (!p.removed && p.hooks.on_local_topics)
      p.hooks.on_local_topics(topics);
}

} // namespace broker::detail
