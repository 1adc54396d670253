#include "core/handshake.hh"

namespace broker::detail {

namespace bin = format::bin;

handshake::step handshake::start(const context& ctx) {
  step result;
  if (role_ == role::acceptor) {
    // The acceptor probes at once, whether or not a hello arrived (§6.3).
    result.out.emplace_back(bin::probe_msg{});
    state_ = state::await_hello;
  } else {
    result.out.emplace_back(bin::hello_msg{ctx.self, bin::protocol_version,
                                           bin::protocol_version});
    state_ = state::await_hello_or_vs;
  }
  return result;
}

handshake::step handshake::fail(const context& ctx, ec code, std::string why,
                                bool send) {
  step result;
  if (send)
    result.out.emplace_back(bin::drop_conn_msg{ctx.self, code, why});
  result.failure = error{code, std::move(why)};
  state_ = state::failed;
  return result;
}

std::optional<handshake::step>
handshake::accept_hello(const context& ctx, const bin::hello_msg& hello) {
  if (!versions_ok(hello.min_version, hello.max_version))
    return fail(ctx, ec::peer_incompatible, "unsupported versions offered");
  if (hello.sender == ctx.self)
    return fail(ctx, ec::logic_error, "connected to itself");
  peer_ = hello.sender;
  return std::nullopt;
}

handshake::step handshake::originate(const context& ctx) {
  originator_ = true;
  if (ctx.redundant(*peer_, true))
    return fail(ctx, ec::redundant_connection, "redundant connection");
  step result;
  result.out.emplace_back(bin::version_select_msg{ctx.self,
                                                  bin::protocol_version});
  result.out.emplace_back(bin::originator_syn_msg{ctx.filter()});
  state_ = state::await_syn_ack;
  return result;
}

handshake::step handshake::handle(const context& ctx,
                                  const bin::handshake_msg& msg) {
  if (state_ == state::done || state_ == state::failed)
    return {};
  // A probe is never an answer; ignore it in every state (§6.3).
  if (std::holds_alternative<bin::probe_msg>(msg))
    return {};
  if (auto* drop = std::get_if<bin::drop_conn_msg>(&msg)) {
    peer_ = drop->sender;
    return fail(ctx, drop->code,
                "peer dropped the connection: " + drop->description, false);
  }
  switch (state_) {
    case state::await_hello:
      if (auto* hello = std::get_if<bin::hello_msg>(&msg)) {
        if (auto refused = accept_hello(ctx, *hello))
          return std::move(*refused);
        if (ctx.self < *peer_)
          return originate(ctx);
        step result;
        result.out.emplace_back(bin::hello_msg{ctx.self, bin::protocol_version,
                                               bin::protocol_version});
        state_ = state::await_version_select;
        return result;
      }
      break;
    case state::await_hello_or_vs:
      if (auto* hello = std::get_if<bin::hello_msg>(&msg)) {
        if (auto refused = accept_hello(ctx, *hello))
          return std::move(*refused);
        if (!(ctx.self < *peer_))
          return fail(ctx, ec::logic_error,
                      "peer sent hello although it has the smaller id");
        return originate(ctx);
      }
      if (auto* vs = std::get_if<bin::version_select_msg>(&msg)) {
        if (vs->version != bin::protocol_version)
          return fail(ctx, ec::peer_incompatible, "unsupported version");
        if (!(vs->sender < ctx.self))
          return fail(ctx, ec::logic_error,
                      "peer originates although it has the larger id");
        peer_ = vs->sender;
        state_ = state::await_originator_syn;
        return {};
      }
      break;
    case state::await_version_select:
      if (auto* vs = std::get_if<bin::version_select_msg>(&msg)) {
        if (vs->version != bin::protocol_version)
          return fail(ctx, ec::peer_incompatible, "unsupported version");
        if (vs->sender != *peer_)
          return fail(ctx, ec::logic_error, "peer changed its id");
        state_ = state::await_originator_syn;
        return {};
      }
      break;
    case state::await_originator_syn:
      if (auto* syn = std::get_if<bin::originator_syn_msg>(&msg)) {
        // Only completed peerings count here: the originator already
        // resolved races between handshakes in flight.
        if (ctx.redundant(*peer_, false))
          return fail(ctx, ec::logic_error,
                      "detected redundant connection at the responder");
        peer_filter_ = normalize_filter(syn->filter);
        step result;
        result.out.emplace_back(bin::responder_syn_ack_msg{ctx.filter()});
        state_ = state::await_ack;
        return result;
      }
      break;
    case state::await_syn_ack:
      if (auto* ack = std::get_if<bin::responder_syn_ack_msg>(&msg)) {
        peer_filter_ = normalize_filter(ack->filter);
        step result;
        result.out.emplace_back(bin::originator_ack_msg{});
        state_ = state::done;
        return result;
      }
      break;
    case state::await_ack:
      if (std::holds_alternative<bin::originator_ack_msg>(msg)) {
        state_ = state::done;
        return {};
      }
      break;
    default:
      break;
  }
  return fail(ctx, ec::invalid_message, "unexpected handshake message");
}

} // namespace broker::detail
