#include "core/local_consumers.hh"

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
  auto id = next_participant_id_++;
  participants_.push_back(
    {id, normalize_filter(std::move(topics)), std::move(hooks)});
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
  std::erase_if(participants_, [id](auto& p) { return p.id == id; });
}

void local_consumers::watch(std::string topic,
                            std::shared_ptr<std::atomic<bool>> flag) {
  watches_.emplace_back(std::move(topic), std::move(flag));
  local_topics_changed();
}

filter_type local_consumers::filter() const {
  filter_type result;
  for (auto& p : participants_)
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

void local_consumers::deliver_command(const std::string& topic,
                                      std::span<const std::byte> payload,
                                      std::optional<participant_id> skip) {
  for (auto& p : participants_) {
    if (!p.hooks.on_command || p.id == skip
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
    sub.queue->push(msg);
  }
}

void local_consumers::resume_paused() {
  for (auto& sub : subscribers_)
    if (sub.queue->full())
      return;
  auto paused = std::move(paused_);
  paused_.clear();
  for (auto* c : paused)
    if (!c->gone)
      c->stream->resume_reading();
}

void local_consumers::stop_backpressure() {
  backpressure_ = false;
  auto paused = std::move(paused_);
  paused_.clear();
  for (auto* c : paused)
    if (!c->gone)
      c->stream->resume_reading();
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
  for (auto& p : participants_)
    if (p.hooks.on_local_topics)
      p.hooks.on_local_topics(topics);
}

} // namespace broker::detail
