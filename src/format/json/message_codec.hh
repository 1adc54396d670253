#pragma once

// The messages of the WebSocket JSON API (websocket-api.md §2-§5): the
// client's subscription, the server's ack, data messages in both
// directions and error messages. Values inside them go through
// value_codec, the one place that maps JSON to broker::data. Pure
// functions, no I/O: the sessions in src/websocket own the protocol state.

#include "broker/data.hh"
#include "broker/error.hh"
#include "broker/expected.hh"
#include "broker/message.hh"
#include "format/json/value_codec.hh"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace broker::format::json {

/// An in-band error of the API (§5.2): `code` is the snake_case name of an
/// `ec` or one of `invalid_uri` and `invalid_application_name`; `context`
/// is the description clients see.
struct api_error {
  std::string code;
  std::string context;

  friend bool operator==(const api_error&, const api_error&) = default;
};

/// The fixed contexts of §2.2 and §5.2. Scripts match on them, so they are
/// part of the protocol: detail may only be appended after " -> ".
namespace context {
inline constexpr std::string_view not_an_array = "subscriptions not an array";
inline constexpr std::string_view not_a_string
  = "individual subscription not a string";
inline constexpr std::string_view reserved_subscription
  = "reserved topic in subscriptions";
inline constexpr std::string_view bad_object = "failed to decode JSON object";
inline constexpr std::string_view no_topic
  = "no topic in top-level JSON object";
inline constexpr std::string_view reserved_topic = "reserved topic";
} // namespace context

// -- client to server -------------------------------------------------------

/// Decodes the client's first message (§2.1): a JSON array of topic
/// prefixes. @returns the prefixes or the error to send (§2.2).
std::variant<std::vector<std::string>, api_error>
decode_subscription(std::string_view text);

/// Appends the subscription message for `topics` (client side).
void encode_subscription(const std::vector<std::string>& topics,
                         std::string& out);

/// Decodes a data message from a client (§3): topic plus flattened value.
/// @returns the message or the error to send (§5.2).
std::variant<data_message, api_error>
decode_data_message(std::string_view text, const decode_limits& limits = {});

// -- server to client -------------------------------------------------------

/// Appends the ack (§2.4): `{"type":"ack","endpoint":..,"version":..}`.
void encode_ack(std::string_view endpoint, std::string_view version,
                std::string& out);

/// Appends a data message (§5.1), members in the order type, topic,
/// @data-type, data.
void encode_data_message(std::string_view topic, const data& value,
                         std::string& out);

/// Appends an error message (§5.2), members in the order type, code,
/// context.
void encode_error(std::string_view code, std::string_view context,
                  std::string& out);

/// The ack as a client reads it.
struct api_ack {
  std::string endpoint;
  std::string version;
};

/// Anything a server sends (client side of §5).
using server_message = std::variant<api_ack, data_message, api_error>;

/// Decodes a message from a server. Accepts `message` in place of
/// `context` in errors (Zeek 7.2.0/7.2.1, §5.2). A data message is
/// recognised by its `type` and must carry a topic and a valid value.
/// @returns the message, or an `ec::deserialization_failed` /
///          `ec::invalid_json` error describing what is wrong.
expected<server_message> decode_server_message(std::string_view text,
                                               const decode_limits& limits
                                               = {});

} // namespace broker::format::json
