// The WebSocket JSON API messages (websocket-api.md §2-§5): the
// subscription and its two errors, data messages from clients with every
// row of the §5.2 error table, and what the server sends (ack, data
// message, error) with member order and escaping as specified.
#include "format/json/message_codec.hh"

#include <gtest/gtest.h>

#include <limits>

using namespace broker;
using namespace broker::format::json;
using namespace std::literals;

namespace {

std::vector<std::string> topics_of(std::string_view text) {
  auto res = decode_subscription(text);
  auto* topics = std::get_if<std::vector<std::string>>(&res);
  EXPECT_NE(topics, nullptr) << text;
  return topics ? *topics : std::vector<std::string>{};
}

api_error sub_error(std::string_view text) {
  auto res = decode_subscription(text);
  auto* err = std::get_if<api_error>(&res);
  EXPECT_NE(err, nullptr) << text;
  return err ? *err : api_error{};
}

data_message msg_of(std::string_view text) {
  auto res = decode_data_message(text);
  auto* msg = std::get_if<data_message>(&res);
  EXPECT_NE(msg, nullptr) << text << " -> "
                          << (msg ? "" : std::get<api_error>(res).context);
  return msg ? *msg : data_message{};
}

api_error msg_error(std::string_view text) {
  auto res = decode_data_message(text);
  auto* err = std::get_if<api_error>(&res);
  EXPECT_NE(err, nullptr) << text;
  return err ? *err : api_error{};
}

/// The context without the optional " -> detail" suffix.
std::string prefix(const api_error& err) {
  return err.context.substr(0, err.context.find(" -> "));
}

TEST(json_subscription, valid_forms) {
  EXPECT_EQ(topics_of("[]"), std::vector<std::string>{});
  EXPECT_EQ(topics_of(R"([""])"), std::vector<std::string>{""});
  EXPECT_EQ(topics_of(R"( ["a", "b/c", "a"] )"),
            (std::vector<std::string>{"a", "b/c", "a"}));
}

TEST(json_subscription, errors_of_section_2_2) {
  for (auto text : {"hello"sv, "{}"sv, R"({"topics":["a"]})"sv, "\"a\""sv,
                    "[\"a\""sv, ""sv}) {
    auto err = sub_error(text);
    EXPECT_EQ(err.code, "deserialization_failed") << text;
    EXPECT_EQ(err.context, "subscriptions not an array") << text;
  }
  for (auto text : {"[1]"sv, R"(["a", null])"sv, R"([["a"]])"sv}) {
    auto err = sub_error(text);
    EXPECT_EQ(err.code, "deserialization_failed") << text;
    EXPECT_EQ(err.context, "individual subscription not a string") << text;
  }
  auto err = sub_error(R"(["<$>/local/data/statuses"])");
  EXPECT_EQ(prefix(err), "reserved topic in subscriptions");
}

TEST(json_subscription, round_trip) {
  std::string out;
  encode_subscription({"a", "b\"c", ""}, out);
  EXPECT_EQ(out, R"(["a","b\"c",""])");
  EXPECT_EQ(topics_of(out), (std::vector<std::string>{"a", "b\"c", ""}));
}

TEST(json_data_message, keys_in_any_order_and_type_unchecked) {
  auto a = msg_of(
    R"({"topic":"/t","type":"data-message","@data-type":"count","data":3})");
  EXPECT_EQ(a.topic, "/t");
  EXPECT_EQ(a.value, data{count{3}});
  auto b = msg_of(R"({"@data-type":"count","data":3,"topic":"/t","type":"x"})");
  EXPECT_EQ(b.topic, "/t");
  EXPECT_EQ(b.value, data{count{3}});
  auto c = msg_of(R"({"topic":"/n","@data-type":"none"})");
  EXPECT_EQ(c.value, data{});
}

TEST(json_data_message, error_table_of_section_5_2) {
  struct row {
    std::string_view input;
    std::string_view context;
  };
  row rows[] = {
    {"hello", "failed to decode JSON object"},
    {"[1,2]", "failed to decode JSON object"},
    {"42", "failed to decode JSON object"},
    {R"({"topic":"/t","@data-type":"nope","data":1})",
     "failed to decode JSON object"},
    {R"({"topic":"/t","data":1})", "failed to decode JSON object"},
    {R"({"topic":"/t","@data-type":"count","data":"1"})",
     "failed to decode JSON object"},
    {R"({"topic":"/t","@data-type":"count","data":18446744073709551616})",
     "failed to decode JSON object"},
    {R"({"topic":"/t","@data-type":"integer","data":-9223372036854775809})",
     "failed to decode JSON object"},
    {R"({"topic":"/t","@data-type":"address","data":"300.1.2.3"})",
     "failed to decode JSON object"},
    {R"({"topic":"/t","@data-type":"vector","data":[1]})",
     "failed to decode JSON object"},
    {R"({"@data-type":"count","data":3})", "no topic in top-level JSON object"},
    {R"({"topic":3,"@data-type":"count","data":3})",
     "no topic in top-level JSON object"},
    {R"({"topic":"","@data-type":"count","data":3})", "reserved topic"},
    {R"({"topic":"<$>/local","@data-type":"count","data":3})",
     "reserved topic"},
  };
  for (auto& r : rows) {
    auto err = msg_error(r.input);
    EXPECT_EQ(err.code, "deserialization_failed") << r.input;
    EXPECT_EQ(prefix(err), r.context) << r.input << " -> " << err.context;
  }
}

TEST(json_data_message, nesting_limit_is_an_error_not_a_crash) {
  std::string deep = R"({"topic":"/t",)";
  for (int i = 0; i < 5000; ++i)
    deep += R"("@data-type":"vector","data":[{)";
  auto err = msg_error(deep);
  EXPECT_EQ(prefix(err), "failed to decode JSON object");
}

TEST(json_server_messages, exact_shapes) {
  std::string out;
  encode_ack("b81c4f0e-6a2d-4f83-9c1e-5d7a0b3e9f24", "1.0.0", out);
  EXPECT_EQ(out, R"({"type":"ack","endpoint":"b81c4f0e-6a2d-4f83-9c1e-5d7a0b3e9f24","version":"1.0.0"})");
  out.clear();
  encode_data_message("demo/x", data{vector{data{count{1}}, data{"s"}}}, out);
  EXPECT_EQ(out, R"({"type":"data-message","topic":"demo/x","@data-type":"vector","data":[{"@data-type":"count","data":1},{"@data-type":"string","data":"s"}]})");
  out.clear();
  encode_error("deserialization_failed", "failed to decode JSON object", out);
  EXPECT_EQ(out, R"({"type":"error","code":"deserialization_failed","context":"failed to decode JSON object"})");
}

TEST(json_server_messages, client_side_decoding) {
  auto ack = decode_server_message(
    R"({"type":"ack","endpoint":"e","version":"8.0.1"})");
  ASSERT_TRUE(ack);
  ASSERT_TRUE(std::holds_alternative<api_ack>(*ack));
  EXPECT_EQ(std::get<api_ack>(*ack).endpoint, "e");
  EXPECT_EQ(std::get<api_ack>(*ack).version, "8.0.1");
  std::string out;
  encode_data_message("t", data{real{-7.5}}, out);
  auto msg = decode_server_message(out);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(std::holds_alternative<data_message>(*msg));
  EXPECT_EQ(std::get<data_message>(*msg).topic, "t");
  EXPECT_EQ(std::get<data_message>(*msg).value, data{real{-7.5}});
  // Zeek 7.2.0/7.2.1 said "message" instead of "context".
  auto err = decode_server_message(
    R"({"type":"error","code":"invalid_uri","message":"use /v1"})");
  ASSERT_TRUE(err);
  ASSERT_TRUE(std::holds_alternative<api_error>(*err));
  EXPECT_EQ(std::get<api_error>(*err), (api_error{"invalid_uri", "use /v1"}));
  EXPECT_FALSE(decode_server_message("nope"));
  EXPECT_FALSE(decode_server_message("[]"));
  EXPECT_FALSE(decode_server_message(R"({"type":"ack","endpoint":"e"})"));
  EXPECT_FALSE(decode_server_message(R"({"type":"status"})"));
  EXPECT_FALSE(decode_server_message(
    R"({"type":"data-message","@data-type":"count","data":1})"));
  EXPECT_FALSE(decode_server_message(
    R"({"type":"data-message","topic":"t","@data-type":"count","data":-1})"));
}

} // namespace
