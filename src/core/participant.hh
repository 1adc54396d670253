#pragma once

// Local participants: parts of this endpoint, above the core, that take
// part in pub/sub the way a peer does (data stores, WebSocket clients). The
// core routes to them by their topics, advertises those topics to peers,
// and lets them publish as the endpoint; it knows nothing else about them.

#include "broker/message.hh"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace broker::detail {

using data_message_ptr = std::shared_ptr<const broker::data_message>;

using participant_id = uint64_t;

/// A command message (a store command) as a participant receives it: its
/// topic and the envelope's payload bytes.
struct command_message {
  std::string topic;
  std::vector<std::byte> payload;
};

/// What a participant receives. All run on the I/O thread and must not
/// block; any may be left empty.
struct participant_hooks {
  /// Data messages on its topics: from peers, other participants, and
  /// (with `local_origin`) what local code of this endpoint publishes.
  std::function<void(const data_message_ptr& msg, bool local_origin)> on_data;
  /// Command messages on its topics (store traffic).
  std::function<void(command_message msg)> on_command;
  /// The topics of this endpoint's local subscribers: once when added and
  /// again whenever they change.
  std::function<void(const std::vector<std::string>& topics)> on_local_topics;
  /// Every data message local code of this endpoint publishes, whatever
  /// its topic and the participant's topics (which need not name it, so
  /// nothing is advertised to peers for it): a WebSocket client connection
  /// passes all of them to the server, which decides what it wants.
  std::function<void(const data_message_ptr& msg)> on_local_publish;
  /// Flow control (0007): a local subscriber queue that a message of this
  /// participant filled stops its input (a WebSocket client's socket is no
  /// longer read), as a peer that fills one stops being read; resumed
  /// when the subscriber catches up or its time is up. Both or neither.
  std::function<void()> pause_input;
  std::function<void()> resume_input;
};

} // namespace broker::detail
