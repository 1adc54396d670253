#pragma once

/// Zeek's message layouts on top of Broker values (SPEC §6).
///
/// Every Zeek message is `vector[count 1 (format version), count type,
/// vector content]`. An event's content is `[name, vector args]` plus an
/// optional vector of `[count key, value]` metadata pairs.

#include "broker/data.hh"
#include "broker/expected.hh"

#include <optional>
#include <string>
#include <string_view>

namespace broker::zeek {

/// The only format version.
inline constexpr count protocol_version = 1;

/// Zeek message types, with Zeek's values.
enum class message_type : uint8_t {
  invalid = 0,
  event = 1,
  log_create = 2,
  log_write = 3,
  identifier_update = 4,
  batch = 5,
};

/// Well-known metadata keys of events.
enum class metadata_type : uint8_t {
  network_timestamp = 1,
  user_metadata_start = 200,
};

/// @returns the type of a Zeek message, or an error (ec::invalid_data)
/// naming what is wrong: not a vector, wrong size, wrong version, ...
expected<message_type> type_of(const data& msg);

// -- events -----------------------------------------------------------------

/// A view into a valid event message.
struct event_view {
  const std::string* name = nullptr;
  const vector* args = nullptr;
  /// nullptr when the event has no metadata.
  const vector* metadata = nullptr;
};

/// Builds an event. Empty metadata is omitted, as Zeek does.
data make_event(std::string name, vector args, vector metadata = {});

/// Checks the layout of an event and returns views into it.
expected<event_view> parse_event(const data& msg);

/// @returns the value of metadata entry `key`, if present.
const data* event_metadata(const event_view& ev, count key);

// -- other Zeek messages --------------------------------------------------------

/// [stream_id, writer_id, writer_info, fields]
data make_log_create(enum_value stream_id, enum_value writer_id,
                     data writer_info, data fields);

/// [stream_id, writer_id, path, serialized record (Zeek's own encoding)]
data make_log_write(enum_value stream_id, enum_value writer_id,
                    std::string path, std::string serial_data);

/// [identifier name, new value]
data make_identifier_update(std::string id_name, data id_value);

/// [message, message, ...] (each a complete Zeek message)
data make_batch(vector messages);

/// @returns the content vector of a valid message of type `t`, checking
/// that type's layout.
expected<const vector*> parse_content(const data& msg, message_type t);

} // namespace broker::zeek
