#pragma once

/// Error codes and the error type carried by `expected<T>`.
///
/// The numeric values of `ec` are pinned: they cross the wire (drop_conn,
/// store commands) and reach Python as `broker.EC`. They are real Broker's.

#include <cstdint>
#include <string>
#include <string_view>

namespace broker {

/// Broker's error codes, with real Broker's numeric values.
enum class ec : uint8_t {
  none = 0,
  unspecified = 1,
  peer_incompatible = 2,
  peer_invalid = 3,
  peer_unavailable = 4,
  peer_disconnect_during_handshake = 5,
  peer_timeout = 6,
  master_exists = 7,
  no_such_master = 8,
  no_such_key = 9,
  request_timeout = 10,
  type_clash = 11,
  invalid_data = 12,
  backend_failure = 13,
  stale_data = 14,
  cannot_open_file = 15,
  cannot_write_file = 16,
  invalid_topic_key = 17,
  end_of_file = 18,
  invalid_tag = 19,
  invalid_message = 20,
  invalid_status = 21,
  conversion_failed = 22,
  consumer_exists = 23,
  connection_timeout = 24,
  bad_member_function_call = 25,
  repeated_request_id = 26,
  broken_clone = 27,
  shutting_down = 28,
  invalid_peering_request = 29,
  repeated_peering_handshake_request = 30,
  unexpected_handshake_message = 31,
  invalid_handshake_state = 32,
  no_path_to_peer = 33,
  no_connector_available = 34,
  cannot_open_resource = 35,
  serialization_failed = 36,
  deserialization_failed = 37,
  wrong_magic_number = 38,
  redundant_connection = 39,
  logic_error = 40,
  invalid_json = 41,
};

/// Number of codes in `ec` (they are dense, 0 to 41).
inline constexpr int ec_count = 42;

/// Returns the snake_case name of `code` (e.g. "type_clash").
std::string_view to_string(ec code) noexcept;

/// An error code plus a human-readable description.
class error {
public:
  error() = default;

  error(ec code, std::string message)
    : code_(code), message_(std::move(message)) {}

  /// @returns the error code.
  ec code() const noexcept { return code_; }

  /// @returns the description.
  const std::string& message() const noexcept { return message_; }

  /// @returns `"<code name>: <message>"`.
  std::string to_string() const;

private:
  ec code_ = ec::none;
  std::string message_;
};

} // namespace broker
