#pragma once

// The peering handshake (wire-protocol.md §2) as a pure state machine: it
// consumes decoded messages and says what to send, so it can be tested
// without sockets. The endpoint with the smaller id originates, whoever
// dialled. Redundant connections are refused with drop_conn 39 by an
// originator and drop_conn 40 by a responder (§6 item 1).

#include "broker/endpoint_id.hh"
#include "broker/error.hh"
#include "core/filter.hh"
#include "format/bin/handshake.hh"

#include <functional>
#include <optional>
#include <vector>

namespace broker::detail {

class handshake {
public:
  enum class role { connector, acceptor };

  enum class state {
    start,
    await_hello,          // acceptor: waiting for the connector's hello
    await_hello_or_vs,    // connector: hello (we originate) or version_select
    await_version_select, // acceptor, peer originates
    await_originator_syn, // we respond
    await_syn_ack,        // we originate
    await_ack,            // we respond
    done,
    failed,
  };

  /// What the state machine needs from the endpoint.
  struct context {
    endpoint_id self;
    /// Our current filter.
    std::function<filter_type()> filter;
    /// Whether a connection to `peer` already exists. `include_pending`
    /// also counts other handshakes that already know the peer's id.
    std::function<bool(const endpoint_id& peer, bool include_pending)>
      redundant;
  };

  /// The outcome of one input.
  struct step {
    std::vector<format::bin::handshake_msg> out;
    /// Set when the handshake failed; the connection closes after `out`.
    std::optional<error> failure;
  };

  explicit handshake(role r) noexcept : role_(r) {}

  /// @returns the first messages: probe (acceptor) or hello (connector).
  step start(const context& ctx);

  /// Feeds one received message.
  step handle(const context& ctx, const format::bin::handshake_msg& msg);

  state current() const noexcept { return state_; }

  bool done() const noexcept { return state_ == state::done; }

  /// The peer's id, once received.
  const std::optional<endpoint_id>& peer() const noexcept { return peer_; }

  /// The peer's filter, once received.
  const filter_type& peer_filter() const noexcept { return peer_filter_; }

  /// Whether we originate (our id is the smaller one).
  bool originator() const noexcept { return originator_; }

  role get_role() const noexcept { return role_; }

private:
  step fail(const context& ctx, ec code, std::string why, bool send = true);
  bool versions_ok(uint8_t min, uint8_t max) const noexcept {
    return min <= format::bin::protocol_version
           && max >= format::bin::protocol_version;
  }
  step originate(const context& ctx);
  /// Checks a hello and records the peer. @returns the refusal, if any.
  std::optional<step> accept_hello(const context& ctx,
                                   const format::bin::hello_msg& hello);

  role role_;
  state state_ = state::start;
  std::optional<endpoint_id> peer_;
  filter_type peer_filter_;
  bool originator_ = false;
};

} // namespace broker::detail
