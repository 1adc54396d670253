// Wire format v1 envelopes (phase 3): every envelope captured from a real
// Broker is rebuilt byte for byte from its parsed fields and matches its
// label; the example frame of wire-protocol.md §3; malformed input.
#include "format/bin/envelope.hh"

#include "format/bin/value_codec.hh"

#include "golden.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace broker;
using namespace broker::format;
using broker::test::hex;
using broker::test::unhex;

namespace {

using bytes = std::vector<std::byte>;

const char* golden_files[] = {
  "handshake-listener-smaller.json",
  "handshake-connector-smaller.json",
  "drop-conn.json",
  "routing-update.json",
  "unpeer-graceful.json",
  "redundant-connection-listener-smaller.json",
  "redundant-connection-connector-smaller.json",
  "disconnect-abrupt.json",
};

const char* id_c_hex = "6f1c2a9e3b7d4e219a550c8d7e6f5a41";

endpoint_id id_from_hex(const std::string& str) {
  auto raw = unhex(str);
  endpoint_id::bytes_type arr{};
  EXPECT_EQ(raw.size(), arr.size());
  for (size_t i = 0; i < arr.size() && i < raw.size(); ++i)
    arr[i] = static_cast<uint8_t>(raw[i]);
  return endpoint_id{arr};
}

/// For each frame of a golden file: true if it is a phase-3 envelope. A
/// direction of a connection carries handshake messages until it has sent
/// responder_syn_ack (11) or originator_ack (12).
std::vector<bool> envelope_phase(const nlohmann::json& frames) {
  std::map<std::pair<int, std::string>, bool> done;
  std::vector<bool> result;
  for (auto& frame : frames) {
    auto key = std::make_pair(frame["conn"].get<int>(),
                              frame["dir"].get<std::string>());
    auto raw = unhex(frame["hex"].get<std::string>());
    result.push_back(done[key]);
    if (!done[key] && raw.size() > 4) {
      auto tag = static_cast<uint8_t>(raw[4]);
      if (tag == 11 || tag == 12)
        done[key] = true;
    }
  }
  return result;
}

/// The frame payload after checking the 4-byte length prefix.
std::span<const std::byte> frame_payload(const bytes& frame) {
  EXPECT_GE(frame.size(), 4u);
  if (frame.size() < 4)
    return {};
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len = (len << 8) | static_cast<uint8_t>(frame[i]);
  EXPECT_EQ(len, frame.size() - 4);
  return std::span{frame.data() + 4, frame.size() - 4};
}

bytes rebuild(const bin::envelope_view& env) {
  bin::byte_buffer out;
  bin::write_envelope_frame(out, env.sender, env.receiver, env.type, env.ttl,
                            env.topic, env.payload);
  return out;
}

expected<bin::envelope_view> parse(const bytes& payload) {
  return bin::read_envelope(std::span{payload.data(), payload.size()});
}

/// Parses a Python repr of a list of str: `['a', 'b']`.
std::vector<std::string> parse_py_list(const std::string& text) {
  std::vector<std::string> result;
  size_t i = 0;
  auto fail = [&] {
    ADD_FAILURE() << "cannot parse Python list: " << text;
    return std::vector<std::string>{};
  };
  if (text.empty() || text[i++] != '[')
    return fail();
  while (i < text.size() && text[i] != ']') {
    if (text[i] == ',' || text[i] == ' ') {
      ++i;
      continue;
    }
    if (text[i] != '\'' && text[i] != '"')
      return fail();
    char quote = text[i++];
    std::string item;
    while (i < text.size() && text[i] != quote) {
      if (text[i] == '\\' && i + 1 < text.size())
        ++i;
      item += text[i++];
    }
    if (i == text.size())
      return fail();
    ++i;
    result.push_back(std::move(item));
  }
  return result;
}

/// Extracts `key=value` from a label: a bracketed list, a quoted string, or
/// everything up to the next blank.
std::optional<std::string> field(const std::string& label,
                                 const std::string& key) {
  auto pos = label.find(" " + key + "=");
  if (pos == std::string::npos)
    return std::nullopt;
  pos += key.size() + 2;
  if (label[pos] == '[') {
    auto end = label.find(']', pos);
    return label.substr(pos, end - pos + 1);
  }
  if (label[pos] == '\'') {
    auto end = label.find('\'', pos + 1);
    return label.substr(pos + 1, end - pos - 1);
  }
  auto end = label.find(' ', pos);
  return label.substr(pos, end == std::string::npos ? end : end - pos);
}

std::string type_name(bin::msg_type type) {
  switch (type) {
    case bin::msg_type::data:
      return "data";
    case bin::msg_type::command:
      return "command";
    case bin::msg_type::routing_update:
      return "routing_update";
    case bin::msg_type::ping:
      return "ping";
    case bin::msg_type::pong:
      return "pong";
    default:
      return "?";
  }
}

struct golden_stats {
  std::map<std::string, int> by_type;
};

void check_golden_file(const char* name, golden_stats& stats) {
  SCOPED_TRACE(name);
  auto doc = test::load_golden(name);
  auto a = id_from_hex(doc["endpoints"]["A"]["id_hex"]);
  auto b = id_from_hex(doc["endpoints"]["B"]["id_hex"]);
  auto resolve = [&](const std::optional<std::string>& who) {
    EXPECT_TRUE(who);
    if (!who || *who == "none")
      return endpoint_id{};
    EXPECT_TRUE(*who == "A" || *who == "B") << *who;
    return *who == "A" ? a : b;
  };
  auto& frames = doc["frames"];
  auto phase3 = envelope_phase(frames);
  std::map<int, std::string> last_ping; // per conn: payload hex
  for (size_t i = 0; i < frames.size(); ++i) {
    if (!phase3[i])
      continue;
    auto& frame = frames[i];
    auto meaning = frame["meaning"].get<std::string>();
    auto decoded = frame["decoded"].get<std::string>();
    auto conn = frame["conn"].get<int>();
    SCOPED_TRACE("frame " + std::to_string(i) + " (conn "
                 + std::to_string(conn) + ", "
                 + frame["dir"].get<std::string>() + "): " + meaning);
    auto raw = unhex(frame["hex"].get<std::string>());
    auto env = bin::read_envelope(frame_payload(raw));
    ASSERT_TRUE(env) << env.error().to_string();
    EXPECT_EQ(hex(rebuild(*env)), hex(raw));
    // Header fields against the labels.
    auto kind = meaning.substr(0, meaning.find(' '));
    EXPECT_EQ(type_name(env->type), kind);
    EXPECT_EQ(decoded.substr(0, decoded.find(' ')), kind);
    auto dir = frame["dir"].get<std::string>();
    EXPECT_EQ(env->sender, dir == "A->B" ? a : b); // the last hop
    EXPECT_EQ(env->sender, resolve(field(decoded, "from")));
    EXPECT_EQ(env->receiver, resolve(field(decoded, "to")));
    EXPECT_EQ(std::to_string(env->ttl), field(decoded, "ttl"));
    EXPECT_EQ(env->ttl, bin::default_ttl);
    EXPECT_EQ(std::string{env->topic}, field(decoded, "topic"));
    bytes payload(env->payload.begin(), env->payload.end());
    switch (env->type) {
      case bin::msg_type::routing_update: {
        // Sent directly to the neighbour, on the internal topic.
        EXPECT_EQ(env->topic, bin::internal_topic);
        EXPECT_EQ(env->receiver, dir == "A->B" ? b : a);
        auto filter = bin::decode_filter(env->payload);
        ASSERT_TRUE(filter) << filter.error().to_string();
        auto text = field(meaning, "filter");
        ASSERT_TRUE(text);
        EXPECT_EQ(*filter, parse_py_list(*text));
        EXPECT_EQ(*filter, parse_py_list(*field(decoded, "filter")));
        bin::byte_buffer again;
        bin::encode_filter(*filter, again);
        EXPECT_EQ(hex(again), hex(payload));
        break;
      }
      case bin::msg_type::ping:
      case bin::msg_type::pong: {
        EXPECT_EQ(env->topic, bin::internal_topic);
        EXPECT_EQ(meaning, kind + " BYE");
        ASSERT_EQ(payload.size(), 11u); // "BYE" + 8 opaque bytes
        EXPECT_EQ(hex(payload).substr(0, 6), "425945");
        EXPECT_EQ(hex(payload), field(decoded, "payload"));
        if (env->type == bin::msg_type::ping) {
          last_ping[conn] = hex(payload);
        } else {
          // A pong echoes the ping's payload.
          EXPECT_EQ(last_ping[conn], hex(payload));
        }
        break;
      }
      case bin::msg_type::data: {
        EXPECT_TRUE(env->receiver.is_nil());
        EXPECT_EQ(field(meaning, "topic"), std::string{env->topic});
        auto value = bin::decode(env->payload);
        ASSERT_TRUE(value) << value.error().to_string();
        bin::byte_buffer again;
        ASSERT_TRUE(bin::encode(*value, again));
        EXPECT_EQ(hex(again), hex(payload));
        break;
      }
      default:
        ADD_FAILURE() << "unexpected envelope type in these captures";
    }
    ++stats.by_type[kind];
  }
}

/// A valid envelope payload (no length prefix) with the given parts.
bytes make_payload(uint8_t type, const std::string& topic_len_hex,
                   const std::string& topic_hex, const std::string& rest) {
  std::string id = id_c_hex;
  return unhex(id + std::string(32, '0') + [&] {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", type);
    return std::string{buf};
  }() + "0010" + topic_len_hex + topic_hex + rest);
}

} // namespace

// -- golden captures ------------------------------------------------------------

TEST(EnvelopeGolden, EveryEnvelopeRebuildsByteForByteAndMatchesItsLabel) {
  golden_stats stats;
  for (auto name : golden_files)
    check_golden_file(name, stats);
  EXPECT_EQ(stats.by_type["routing_update"], 3);
  EXPECT_EQ(stats.by_type["data"], 4);
  EXPECT_EQ(stats.by_type["ping"], 8);
  EXPECT_EQ(stats.by_type["pong"], 8);
}

TEST(EnvelopeGolden, ForwardedFrameReplacesSenderAndTtl) {
  auto doc = test::load_golden("routing-update.json");
  bytes original;
  for (auto& f : doc["frames"])
    if (f["meaning"].get<std::string>().rfind("data ", 0) == 0)
      original = unhex(f["hex"].get<std::string>());
  ASSERT_FALSE(original.empty());
  auto hop = id_from_hex(id_c_hex);
  auto forwarded = bin::forwarded_frame(frame_payload(original), hop, 15);
  bytes frame{forwarded->begin(), forwarded->end()};
  ASSERT_EQ(frame.size(), original.size());
  // Only the sender (bytes 4..19) and the TTL (37..38) changed.
  for (size_t i = 0; i < frame.size(); ++i) {
    if (i < 4 || (i >= 20 && i < 37) || i >= 39) {
      EXPECT_EQ(frame[i], original[i]) << i;
    }
  }
  auto env = bin::read_envelope(frame_payload(frame));
  ASSERT_TRUE(env);
  EXPECT_EQ(env->sender, hop);
  EXPECT_EQ(env->ttl, 15);
  EXPECT_EQ(env->topic, "/golden/rt/new-a");
  EXPECT_EQ(hex(rebuild(*env)), hex(frame));
}

// -- wire-protocol.md §3 ----------------------------------------------------------

TEST(Envelope, DocumentExampleDataFrame) {
  auto expected_hex = std::string{"0000005a"} + id_c_hex
                      + "00000000000000000000000000000000"
                        "010010000a2f64656d6f2f70696e67"
                        "0e03"
                        "020000000000000001"
                        "020000000000000001"
                        "0e02"
                        "050470696e67"
                        "0e020502686902" "0000000000000007";
  auto value = unhex("0e03020000000000000001020000000000000001"
                     "0e02050470696e670e0205026869020000000000000007");
  bin::byte_buffer out;
  bin::write_envelope_frame(out, id_from_hex(id_c_hex), endpoint_id{},
                            bin::msg_type::data, bin::default_ttl,
                            "/demo/ping", value);
  EXPECT_EQ(hex(out), expected_hex);
  EXPECT_EQ(out.size(), 4u + 90u);
  auto env = bin::read_envelope(frame_payload(out));
  ASSERT_TRUE(env);
  EXPECT_EQ(env->sender, id_from_hex(id_c_hex));
  EXPECT_TRUE(env->receiver.is_nil());
  EXPECT_EQ(env->type, bin::msg_type::data);
  EXPECT_EQ(env->ttl, 16);
  EXPECT_EQ(env->topic, "/demo/ping");
  EXPECT_EQ(hex(bytes(env->payload.begin(), env->payload.end())), hex(value));
}

TEST(Envelope, HeaderLayout) {
  EXPECT_EQ(bin::envelope_header_size, 37u);
  bin::byte_buffer out{std::byte{0xee}}; // write_envelope_frame appends
  bin::write_envelope_frame(out, id_from_hex(id_c_hex),
                            id_from_hex("00112233445566778899aabbccddeeff"),
                            bin::msg_type::pong, 0xabcd, "<$>", {});
  EXPECT_EQ(hex(out), std::string{"ee00000028"} + id_c_hex
                        + "00112233445566778899aabbccddeeff"
                          "05abcd00033c243e");
}

TEST(Envelope, EveryTypeAndTtlRoundTrips) {
  for (uint8_t type = 1; type <= 5; ++type) {
    for (uint16_t ttl : {0, 1, 16, 0xffff}) {
      for (std::string topic : {std::string{}, std::string{"<$>"},
                                std::string(65535, 't')}) {
        bytes payload{std::byte{1}, std::byte{2}};
        bin::byte_buffer out;
        bin::write_envelope_frame(out, id_from_hex(id_c_hex), endpoint_id{},
                                  static_cast<bin::msg_type>(type), ttl, topic,
                                  payload);
        auto env = bin::read_envelope(frame_payload(out));
        ASSERT_TRUE(env);
        EXPECT_EQ(static_cast<int>(env->type), type);
        EXPECT_EQ(env->ttl, ttl);
        EXPECT_EQ(env->topic, topic);
        EXPECT_EQ(env->payload.size(), 2u);
        EXPECT_EQ(hex(rebuild(*env)), hex(out));
      }
    }
  }
}

TEST(Envelope, EmptyPayloadAndEmptyTopic) {
  // The view points into the parsed buffer: keep the buffers alive.
  auto buf1 = make_payload(1, "0000", "", "");
  auto env = parse(buf1);
  ASSERT_TRUE(env);
  EXPECT_TRUE(env->topic.empty());
  EXPECT_TRUE(env->payload.empty());
  auto buf2 = make_payload(2, "0002", "2f61", "");
  auto env2 = parse(buf2);
  ASSERT_TRUE(env2);
  EXPECT_EQ(env2->topic, "/a");
  EXPECT_TRUE(env2->payload.empty());
}

TEST(Envelope, OversizedTopicIsRejectedByTheWriter) {
  bin::byte_buffer out;
  EXPECT_THROW(bin::write_envelope_frame(out, endpoint_id{}, endpoint_id{},
                                         bin::msg_type::data, 16,
                                         std::string(65536, 't'), {}),
               std::length_error);
}

// -- malformed input ------------------------------------------------------------

TEST(EnvelopeMalformed, EveryTruncationOfTheHeaderIsInvalid) {
  auto full = make_payload(4, "0003", "3c243e", "425945");
  ASSERT_TRUE(parse(full));
  // Anything shorter than header + topic is invalid; from there on, the
  // payload is simply shorter.
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("length " + std::to_string(n));
    bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto env = parse(cut);
    if (n < bin::envelope_header_size + 3) {
      ASSERT_FALSE(env);
      EXPECT_EQ(env.error().code(), ec::invalid_message);
    } else {
      ASSERT_TRUE(env);
      EXPECT_EQ(env->topic, "<$>");
      EXPECT_EQ(env->payload.size(), n - bin::envelope_header_size - 3);
    }
  }
}

TEST(EnvelopeMalformed, TypesOutsideOneToFiveAreInvalid) {
  for (int type : {0, 6, 7, 8, 9, 10, 11, 12, 13, 0x80, 0xff}) {
    auto env = parse(make_payload(static_cast<uint8_t>(type), "0001", "78",
                                  "00"));
    ASSERT_FALSE(env) << type;
    EXPECT_EQ(env.error().code(), ec::invalid_message) << type;
  }
  for (int type = 1; type <= 5; ++type)
    EXPECT_TRUE(parse(make_payload(static_cast<uint8_t>(type), "0001", "78",
                                   "00")));
}

TEST(EnvelopeMalformed, TopicLengthBeyondTheFrame) {
  for (auto [len, topic] : {std::pair{"0004", "3c243e"}, std::pair{"0001", ""},
                            std::pair{"ffff", "3c243e"},
                            std::pair{"8000", "2f"}}) {
    SCOPED_TRACE(len);
    auto env = parse(make_payload(3, len, topic, ""));
    ASSERT_FALSE(env);
    EXPECT_EQ(env.error().code(), ec::invalid_message);
  }
}

TEST(EnvelopeMalformed, HandshakeFramesAreNotEnvelopes) {
  // A hello is 23 bytes, shorter than an envelope header.
  auto hello = unhex(std::string{"065a45454b"} + id_c_hex + "0101");
  auto env = parse(hello);
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().code(), ec::invalid_message);
  EXPECT_FALSE(parse(unhex("0c")));
  EXPECT_FALSE(parse(bytes{}));
}
