#include "format/json/message_codec.hh"

#include "broker/topic.hh"
#include "format/json/value.hh"

namespace broker::format::json {

namespace {

api_error deser(std::string_view ctx, std::string_view detail = {}) {
  std::string text{ctx};
  if (!detail.empty()) {
    text += " -> ";
    text += detail;
  }
  return api_error{std::string{to_string(ec::deserialization_failed)},
                   std::move(text)};
}

} // namespace

std::variant<std::vector<std::string>, api_error>
decode_subscription(std::string_view text) {
  auto doc = parse(text);
  if (!doc || !doc->is_array())
    return deser(context::not_an_array);
  std::vector<std::string> topics;
  topics.reserve(doc->items().size());
  for (auto& item : doc->items()) {
    if (!item.is_string())
      return deser(context::not_a_string);
    // Internal traffic (statuses, store commands) is not for clients.
    if (topic::is_reserved(item.text()))
      return deser(context::reserved_subscription, item.text());
    topics.push_back(item.text());
  }
  return topics;
}

void encode_subscription(const std::vector<std::string>& topics,
                         std::string& out) {
  out += '[';
  for (size_t i = 0; i < topics.size(); ++i) {
    if (i > 0)
      out += ',';
    encode_string(topics[i], out);
  }
  out += ']';
}

std::variant<data_message, api_error>
decode_data_message(std::string_view text, const decode_limits& limits) {
  auto doc = parse(text, limits.max_depth);
  if (!doc)
    return deser(context::bad_object, doc.error().message());
  if (!doc->is_object())
    return deser(context::bad_object, "not an object");
  auto* tp = doc->find("topic");
  if (tp == nullptr || !tp->is_string())
    return deser(context::no_topic);
  if (tp->text().empty() || topic::is_reserved(tp->text()))
    return deser(context::reserved_topic);
  auto value = decode(*doc, limits);
  if (!value)
    return deser(context::bad_object, value.error().message());
  return data_message{tp->text(), std::move(*value)};
}

void encode_ack(std::string_view endpoint, std::string_view version,
                std::string& out) {
  out += R"({"type":"ack","endpoint":)";
  encode_string(endpoint, out);
  out += R"(,"version":)";
  encode_string(version, out);
  out += '}';
}

void encode_data_message(std::string_view topic, const data& value,
                         std::string& out) {
  out += R"({"type":"data-message","topic":)";
  encode_string(topic, out);
  out += ',';
  encode_members(value, out);
  out += '}';
}

void encode_error(std::string_view code, std::string_view context,
                  std::string& out) {
  out += R"({"type":"error","code":)";
  encode_string(code, out);
  out += R"(,"context":)";
  encode_string(context, out);
  out += '}';
}

expected<server_message> decode_server_message(std::string_view text,
                                               const decode_limits& limits) {
  auto doc = parse(text, limits.max_depth);
  if (!doc)
    return doc.error();
  auto fail = [](std::string why) {
    return error{ec::deserialization_failed, std::move(why)};
  };
  if (!doc->is_object())
    return fail("server message is not a JSON object");
  auto* type = doc->find("type");
  if (type == nullptr || !type->is_string())
    return fail("server message without a type");
  auto str = [&](std::string_view key) -> const std::string* {
    auto* v = doc->find(key);
    return v != nullptr && v->is_string() ? &v->text() : nullptr;
  };
  if (type->text() == "ack") {
    auto* ep = str("endpoint");
    auto* ver = str("version");
    if (ep == nullptr || ver == nullptr)
      return fail("ack without endpoint or version");
    return server_message{api_ack{*ep, *ver}};
  }
  if (type->text() == "data-message") {
    auto* tp = str("topic");
    if (tp == nullptr)
      return fail("data message without a topic");
    auto value = decode(*doc, limits);
    if (!value)
      return value.error();
    return server_message{data_message{*tp, std::move(*value)}};
  }
  if (type->text() == "error") {
    auto* code = str("code");
    auto* ctx = str("context");
    if (ctx == nullptr)
      ctx = str("message"); // Zeek 7.2.0 and 7.2.1
    if (code == nullptr)
      return fail("error message without a code");
    return server_message{api_error{*code, ctx ? *ctx : std::string{}}};
  }
  return fail("unknown server message type " + type->text());
}

} // namespace broker::format::json
