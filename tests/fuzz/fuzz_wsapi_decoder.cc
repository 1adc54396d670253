// libFuzzer target for the WebSocket JSON API messages (src/format/json/
// message_codec). The first byte picks the decoder, the rest is the text:
//  0: the client's subscription: a decoded list encodes back to itself;
//  1: a client's data message: a decoded message becomes a server data
//     message, which the client-side decoder reads back as the same topic;
//     one more round is exact (the JSON value form is lossy only once);
//  2: anything a server sends: whatever decodes re-encodes to a fixpoint.
// Errors must carry a code and a context with the fixed prefixes of §5.2.

#include "fuzz_common.hh"

#include "format/json/message_codec.hh"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace broker;
using namespace broker::fuzz;
namespace json = broker::format::json;

namespace {

void check_error(const json::api_error& err) {
  FUZZ_CHECK(err.code == "deserialization_failed");
  auto ctx = std::string_view{err.context};
  FUZZ_CHECK(ctx.starts_with(json::context::not_an_array)
             || ctx.starts_with(json::context::not_a_string)
             || ctx.starts_with(json::context::reserved_subscription)
             || ctx.starts_with(json::context::bad_object)
             || ctx.starts_with(json::context::no_topic)
             || ctx.starts_with(json::context::reserved_topic));
}

/// Server data message -> client decoder, twice; the second is exact.
void server_round_trips(const data_message& msg) {
  std::string first;
  json::encode_data_message(msg.topic, msg.value, first);
  auto back = json::decode_server_message(first);
  if (!back)
    return; // a leaf without a JSON round trip (see fuzz_json_decoder)
  auto* dm = std::get_if<data_message>(&*back);
  FUZZ_CHECK(dm != nullptr);
  FUZZ_CHECK(dm->topic == msg.topic);
  std::string second;
  json::encode_data_message(dm->topic, dm->value, second);
  auto again = json::decode_server_message(second);
  FUZZ_CHECK(again.has_value());
  auto* dm2 = std::get_if<data_message>(&*again);
  FUZZ_CHECK(dm2 != nullptr && strict_equal(dm2->value, dm->value));
  std::string third;
  json::encode_data_message(dm2->topic, dm2->value, third);
  FUZZ_CHECK(third == second);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* buf, size_t size) {
  if (size == 0)
    return 0;
  std::string_view text{reinterpret_cast<const char*>(buf + 1), size - 1};
  switch (buf[0] % 3) {
    case 0: {
      auto res = json::decode_subscription(text);
      if (auto* err = std::get_if<json::api_error>(&res)) {
        check_error(*err);
        return 0;
      }
      auto& topics = std::get<std::vector<std::string>>(res);
      std::string out;
      json::encode_subscription(topics, out);
      auto again = json::decode_subscription(out);
      auto* t2 = std::get_if<std::vector<std::string>>(&again);
      FUZZ_CHECK(t2 != nullptr && *t2 == topics);
      return 0;
    }
    case 1: {
      auto res = json::decode_data_message(text);
      if (auto* err = std::get_if<json::api_error>(&res)) {
        check_error(*err);
        return 0;
      }
      auto& msg = std::get<data_message>(res);
      FUZZ_CHECK(!msg.topic.empty());
      server_round_trips(msg);
      return 0;
    }
    default: {
      auto res = json::decode_server_message(text);
      if (!res) {
        FUZZ_CHECK(!res.error().message().empty());
        return 0;
      }
      if (auto* dm = std::get_if<data_message>(&*res))
        server_round_trips(*dm);
      return 0;
    }
  }
}
