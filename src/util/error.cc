#include "broker/error.hh"

#include <array>

namespace broker {

namespace {

constexpr std::array<std::string_view, ec_count> ec_names = {
  "none",
  "unspecified",
  "peer_incompatible",
  "peer_invalid",
  "peer_unavailable",
  "peer_disconnect_during_handshake",
  "peer_timeout",
  "master_exists",
  "no_such_master",
  "no_such_key",
  "request_timeout",
  "type_clash",
  "invalid_data",
  "backend_failure",
  "stale_data",
  "cannot_open_file",
  "cannot_write_file",
  "invalid_topic_key",
  "end_of_file",
  "invalid_tag",
  "invalid_message",
  "invalid_status",
  "conversion_failed",
  "consumer_exists",
  "connection_timeout",
  "bad_member_function_call",
  "repeated_request_id",
  "broken_clone",
  "shutting_down",
  "invalid_peering_request",
  "repeated_peering_handshake_request",
  "unexpected_handshake_message",
  "invalid_handshake_state",
  "no_path_to_peer",
  "no_connector_available",
  "cannot_open_resource",
  "serialization_failed",
  "deserialization_failed",
  "wrong_magic_number",
  "redundant_connection",
  "logic_error",
  "invalid_json",
};

} // namespace

std::string_view to_string(ec code) noexcept {
  auto i = static_cast<size_t>(code);
  return i < ec_names.size() ? ec_names[i] : std::string_view{"<unknown>"};
}

std::string error::to_string() const {
  std::string result{broker::to_string(code_)};
  if (!message_.empty()) {
    result += ": ";
    result += message_;
  }
  return result;
}

} // namespace broker
