#include "format/bin/frames.hh"

#include "format/bin/value_codec.hh"

#include <gtest/gtest.h>

#include <cstring>

using namespace broker;
using namespace broker::format::bin;

namespace {

std::span<const std::byte> body(const frame_buffer& f) {
  uint32_t be;
  std::memcpy(&be, f->data(), 4);
  EXPECT_EQ(to_big_endian(be), f->size() - 4); // the length prefix is right
  return {f->data() + 4, f->size() - 4};
}

} // namespace

TEST(Frames, DataFrameCarriesTheEncodedValue) {
  auto a = endpoint_id::random();
  auto f = data_frame(a, endpoint_id{}, 7, "/a/b", data{count{42}});
  auto env = read_envelope(body(f));
  ASSERT_TRUE(env);
  EXPECT_EQ(env->sender, a);
  EXPECT_TRUE(env->receiver.is_nil());
  EXPECT_EQ(env->type, msg_type::data);
  EXPECT_EQ(env->ttl, 7);
  EXPECT_EQ(env->topic, "/a/b");
  auto value = decode(env->payload);
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, data{count{42}});
}

TEST(Frames, CommandAndControlFramesUseTheDefaultTtl) {
  auto a = endpoint_id::random();
  auto b = endpoint_id::random();
  std::vector<std::byte> payload{std::byte{1}, std::byte{2}};
  auto cmd_frame = command_frame(a, b, "s/<$>/data/master", payload);
  auto cmd = read_envelope(body(cmd_frame)); // views into cmd_frame
  ASSERT_TRUE(cmd);
  EXPECT_EQ(cmd->type, msg_type::command);
  EXPECT_EQ(cmd->receiver, b);
  EXPECT_EQ(cmd->ttl, default_ttl);
  EXPECT_TRUE(std::equal(cmd->payload.begin(), cmd->payload.end(),
                         payload.begin(), payload.end()));
  auto pong_frame = envelope_frame(a, b, msg_type::pong, internal_topic,
                                   payload);
  auto pong = read_envelope(body(pong_frame));
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->type, msg_type::pong);
  EXPECT_EQ(pong->topic, internal_topic);
}

TEST(Frames, ByePayloadRoundTripsAndOthersAreNotBye) {
  auto p = bye_payload(0x0102030405060708);
  ASSERT_EQ(p.size(), 11u);
  EXPECT_EQ(std::memcmp(p.data(), "BYE", 3), 0);
  EXPECT_EQ(read_bye(p), std::optional<uint64_t>{0x0102030405060708});
  p[0] = std::byte{'X'};
  EXPECT_EQ(read_bye(p), std::nullopt);
  EXPECT_EQ(read_bye(std::span{p.data(), 10}), std::nullopt);
}
