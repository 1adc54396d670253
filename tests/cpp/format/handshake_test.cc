// Wire format v1 handshake messages (phases 1 and 2): every handshake frame
// captured from a real Broker round-trips byte for byte and decodes to what
// its label says; the example bytes of wire-protocol.md §2; malformed input.
#include "format/bin/handshake.hh"

#include "golden.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
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
bytes frame_payload(const bytes& frame) {
  EXPECT_GE(frame.size(), 4u);
  if (frame.size() < 4)
    return {};
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len = (len << 8) | static_cast<uint8_t>(frame[i]);
  EXPECT_EQ(len, frame.size() - 4);
  return bytes(frame.begin() + 4, frame.end());
}

bytes framed(const bin::handshake_msg& msg) {
  bin::byte_buffer payload;
  bin::encode(msg, payload);
  // Built in one go: GCC 12 at -O2 misreads insert-after-resize
  // (-Warray-bounds false positive).
  bin::byte_buffer out(4 + payload.size());
  auto be = bin::to_big_endian(static_cast<uint32_t>(payload.size()));
  std::memcpy(out.data(), &be, 4);
  std::copy(payload.begin(), payload.end(), out.begin() + 4);
  return out;
}

expected<bin::handshake_msg> dec(const bytes& payload) {
  return bin::decode_handshake(std::span{payload.data(), payload.size()});
}

expected<bin::handshake_msg> dec_hex(const std::string& str) {
  return dec(unhex(str));
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

/// Extracts `key=value` from a `decoded` label, where the value ends at the
/// next ", " or ")" (or is a bracketed list / quoted string).
std::optional<std::string> field(const std::string& decoded,
                                 const std::string& key) {
  auto pos = decoded.find(key + "=");
  if (pos == std::string::npos)
    return std::nullopt;
  pos += key.size() + 1;
  if (decoded[pos] == '[') {
    auto end = decoded.find(']', pos);
    return decoded.substr(pos, end - pos + 1);
  }
  if (decoded[pos] == '\'') {
    auto end = decoded.find('\'', pos + 1);
    return decoded.substr(pos + 1, end - pos - 1);
  }
  auto end = decoded.find_first_of(",)", pos);
  return decoded.substr(pos, end - pos);
}

struct golden_ids {
  endpoint_id a;
  endpoint_id b;
  endpoint_id resolve(const std::string& name) const {
    return name == "A" ? a : b;
  }
};

/// Checks a decoded message against the `meaning` and `decoded` labels.
void check_meaning(const bin::handshake_msg& msg, const std::string& meaning,
                   const std::string& decoded, const golden_ids& ids) {
  auto kind = meaning.substr(0, meaning.find(' '));
  // The sender of messages by the raw client in drop-conn.json is labelled
  // "B(raw client)" and uses two different ids: skip the sender check there.
  auto sender = field(decoded, "sender");
  auto check_sender = [&](const endpoint_id& id) {
    ASSERT_TRUE(sender);
    if (*sender == "A" || *sender == "B") {
      EXPECT_EQ(id, ids.resolve(*sender));
    }
  };
  auto check_filter = [&](const bin::filter_type& filter) {
    auto text = field(decoded, "filter");
    ASSERT_TRUE(text);
    EXPECT_EQ(filter, parse_py_list(*text));
  };
  if (auto* x = std::get_if<bin::hello_msg>(&msg)) {
    EXPECT_EQ(kind, "hello");
    check_sender(x->sender);
    EXPECT_EQ(std::to_string(x->min_version), field(decoded, "min_version"));
    EXPECT_EQ(std::to_string(x->max_version), field(decoded, "max_version"));
  } else if (std::holds_alternative<bin::probe_msg>(msg)) {
    EXPECT_EQ(kind, "probe");
    EXPECT_EQ(field(decoded, "magic"), "0x5A45454B");
  } else if (auto* x = std::get_if<bin::version_select_msg>(&msg)) {
    EXPECT_EQ(kind, "version_select");
    check_sender(x->sender);
    EXPECT_EQ(std::to_string(x->version), field(decoded, "selected_version"));
  } else if (auto* x = std::get_if<bin::drop_conn_msg>(&msg)) {
    EXPECT_EQ(meaning,
              "drop_conn code=" + std::to_string(static_cast<int>(x->code)));
    check_sender(x->sender);
    EXPECT_EQ(std::to_string(static_cast<int>(x->code)),
              field(decoded, "code"));
    EXPECT_EQ(x->description, field(decoded, "description"));
  } else if (auto* x = std::get_if<bin::originator_syn_msg>(&msg)) {
    EXPECT_EQ(kind, "originator_syn");
    check_filter(x->filter);
  } else if (auto* x = std::get_if<bin::responder_syn_ack_msg>(&msg)) {
    EXPECT_EQ(kind, "responder_syn_ack");
    check_filter(x->filter);
  } else {
    EXPECT_TRUE(std::holds_alternative<bin::originator_ack_msg>(msg));
    EXPECT_EQ(kind, "originator_ack");
  }
}

struct golden_stats {
  int round_trips = 0;
  int wrong_magic = 0;
  int malformed = 0;
  int envelopes = 0;
};

void check_golden_file(const char* name, golden_stats& stats) {
  SCOPED_TRACE(name);
  auto doc = test::load_golden(name);
  golden_ids ids{id_from_hex(doc["endpoints"]["A"]["id_hex"]),
                 id_from_hex(doc["endpoints"]["B"]["id_hex"])};
  auto& frames = doc["frames"];
  auto phase3 = envelope_phase(frames);
  for (size_t i = 0; i < frames.size(); ++i) {
    auto& frame = frames[i];
    if (phase3[i]) {
      ++stats.envelopes;
      continue;
    }
    auto meaning = frame["meaning"].get<std::string>();
    auto decoded = frame.value("decoded", std::string{});
    SCOPED_TRACE("frame " + std::to_string(i) + " (conn "
                 + std::to_string(frame["conn"].get<int>()) + ", "
                 + frame["dir"].get<std::string>() + "): " + meaning);
    auto raw = unhex(frame["hex"].get<std::string>());
    auto payload = frame_payload(raw);
    auto msg = dec(payload);
    if (meaning.rfind("malformed", 0) == 0) {
      // The zero-length frame in drop-conn.json.
      ++stats.malformed;
      EXPECT_TRUE(payload.empty());
      ASSERT_FALSE(msg);
      EXPECT_EQ(msg.error().code(), ec::invalid_message);
      continue;
    }
    if (auto magic = field(decoded, "magic"); magic && *magic != "0x5A45454B") {
      ++stats.wrong_magic;
      ASSERT_FALSE(msg);
      EXPECT_EQ(msg.error().code(), ec::wrong_magic_number);
      continue;
    }
    ASSERT_TRUE(msg) << msg.error().to_string();
    EXPECT_EQ(hex(framed(*msg)), hex(raw));
    check_meaning(*msg, meaning, decoded, ids);
    ++stats.round_trips;
  }
}

// -- example messages for the negative tests ----------------------------------

// The ids of wire-protocol.md §2.
const char* id_c_hex = "6f1c2a9e3b7d4e219a550c8d7e6f5a41";

std::vector<std::pair<std::string, std::string>> valid_payloads() {
  std::string id = id_c_hex;
  return {
    {"hello", "065a45454b" + id + "0101"},
    {"probe", "075a45454b"},
    {"version_select", "085a45454b" + id + "01"},
    {"drop_conn", "095a45454b" + id + "2714" + "726564756e64616e7420636f6e6e656374696f6e"},
    {"drop_conn empty description", "095a45454b" + id + "2600"},
    {"originator_syn", "0a02062f64656d6f2f0b7a65656b2f6576656e742f"},
    {"originator_syn empty", "0a00"},
    {"responder_syn_ack", "0b01012f"},
    {"responder_syn_ack empty topic", "0b0100"},
    {"originator_ack", "0c"},
  };
}

} // namespace

// -- golden captures ------------------------------------------------------------

TEST(HandshakeGolden, EveryHandshakeFrameRoundTripsAndMatchesItsLabel) {
  golden_stats total;
  for (auto name : golden_files)
    check_golden_file(name, total);
  // Guards against a classifier that silently skips everything.
  EXPECT_EQ(total.round_trips, 126); // 128 handshake frames minus the two negatives
  EXPECT_EQ(total.wrong_magic, 1);
  EXPECT_EQ(total.malformed, 1);
  EXPECT_EQ(total.envelopes, 23);
}

TEST(HandshakeGolden, HandshakeFilesFollowTheDocumentedSequence) {
  // Listener A has the smaller id: A originates after the probe.
  auto seq = [](const char* name) {
    std::vector<std::string> out;
    auto doc = test::load_golden(name);
    for (auto& frame : doc["frames"])
      out.push_back(frame["dir"].get<std::string>() + " "
                    + frame["meaning"].get<std::string>());
    return out;
  };
  EXPECT_EQ(seq("handshake-listener-smaller.json"),
            (std::vector<std::string>{
              "B->A hello", "A->B probe", "A->B version_select",
              "A->B originator_syn", "B->A responder_syn_ack",
              "A->B originator_ack", "B->A ping BYE", "A->B pong BYE"}));
  EXPECT_EQ(seq("handshake-connector-smaller.json"),
            (std::vector<std::string>{
              "B->A hello", "A->B probe", "A->B hello", "B->A version_select",
              "B->A originator_syn", "A->B responder_syn_ack",
              "B->A originator_ack", "B->A ping BYE", "A->B pong BYE"}));
}

TEST(HandshakeGolden, DropConnCodesAndDescriptions) {
  auto doc = test::load_golden("drop-conn.json");
  std::vector<std::pair<ec, std::string>> seen;
  for (auto& frame : doc["frames"]) {
    auto raw = unhex(frame["hex"].get<std::string>());
    auto payload = frame_payload(raw);
    if (payload.empty() || static_cast<uint8_t>(payload[0]) != 9)
      continue;
    auto msg = dec(payload);
    ASSERT_TRUE(msg);
    auto& x = std::get<bin::drop_conn_msg>(*msg);
    EXPECT_EQ(x.sender, id_from_hex(doc["endpoints"]["A"]["id_hex"]));
    seen.emplace_back(x.code, x.description);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<ec, std::string>>{
                    {ec::wrong_magic_number, "wrong magic number"},
                    {ec::peer_incompatible, "unsupported versions offered"},
                    {ec::peer_incompatible, "unsupported versions offered"}}));
}

TEST(HandshakeGolden, WrongMagicHelloFromTheRawClient) {
  auto msg = dec_hex("06deadbeef00112233445566778899aabbccddeeff0101");
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().code(), ec::wrong_magic_number);
}

// -- wire-protocol.md §2 ----------------------------------------------------------

TEST(Handshake, DocumentExampleBytes) {
  auto c = id_from_hex(id_c_hex);
  EXPECT_EQ(hex(framed(bin::hello_msg{c, 1, 1})),
            "00000017065a45454b6f1c2a9e3b7d4e219a550c8d7e6f5a410101");
  EXPECT_EQ(hex(framed(bin::probe_msg{})), "00000005075a45454b");
  EXPECT_EQ(hex(framed(bin::version_select_msg{c, 1})),
            "00000016085a45454b6f1c2a9e3b7d4e219a550c8d7e6f5a4101");
  EXPECT_EQ(hex(framed(bin::originator_syn_msg{{"/demo/", "zeek/event/"}})),
            "000000150a02062f64656d6f2f0b7a65656b2f6576656e742f");
  EXPECT_EQ(hex(framed(bin::originator_ack_msg{})), "000000010c");
  // And back.
  auto hello = dec_hex("065a45454b6f1c2a9e3b7d4e219a550c8d7e6f5a410101");
  ASSERT_TRUE(hello);
  EXPECT_EQ(std::get<bin::hello_msg>(*hello), (bin::hello_msg{c, 1, 1}));
  auto syn = dec_hex("0a02062f64656d6f2f0b7a65656b2f6576656e742f");
  ASSERT_TRUE(syn);
  EXPECT_EQ(std::get<bin::originator_syn_msg>(*syn).filter,
            (bin::filter_type{"/demo/", "zeek/event/"}));
}

TEST(Handshake, DocumentedSizes) {
  auto c = id_from_hex(id_c_hex);
  auto size = [](const bin::handshake_msg& msg) {
    bin::byte_buffer buf;
    bin::encode(msg, buf);
    return buf.size();
  };
  EXPECT_EQ(size(bin::hello_msg{c}), 23u);
  EXPECT_EQ(size(bin::probe_msg{}), 5u);
  EXPECT_EQ(size(bin::version_select_msg{c}), 22u);
  EXPECT_EQ(size(bin::drop_conn_msg{c, ec::logic_error, ""}), 23u);
  EXPECT_EQ(size(bin::originator_ack_msg{}), 1u);
}

TEST(Handshake, EncodeAppends) {
  bin::byte_buffer buf{std::byte{0xaa}};
  bin::encode(bin::originator_ack_msg{}, buf);
  EXPECT_EQ(hex(buf), "aa0c");
  bin::encode_filter({"x"}, buf);
  EXPECT_EQ(hex(buf), "aa0c010178");
}

TEST(Handshake, EveryMessageRoundTrips) {
  auto c = id_from_hex(id_c_hex);
  std::string long_topic(300, 'x'); // two-byte varbyte length
  std::vector<bin::handshake_msg> msgs = {
    bin::hello_msg{c, 0, 0},
    bin::hello_msg{c, 1, 3},
    bin::hello_msg{endpoint_id{}, 255, 255},
    bin::probe_msg{},
    bin::version_select_msg{c, 1},
    bin::drop_conn_msg{c, ec::redundant_connection, "redundant connection"},
    bin::drop_conn_msg{c, ec::none, ""},
    bin::drop_conn_msg{c, static_cast<ec>(255), std::string(200, '\0')},
    bin::originator_syn_msg{},
    bin::originator_syn_msg{{"", "a", long_topic}},
    bin::responder_syn_ack_msg{{"/a", "/b"}},
    bin::originator_ack_msg{},
  };
  for (auto& msg : msgs) {
    bin::byte_buffer buf;
    bin::encode(msg, buf);
    SCOPED_TRACE(hex(buf));
    auto back = dec(buf);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, msg);
  }
}

TEST(Handshake, DropConnAcceptsAnyCode) {
  std::string id = id_c_hex;
  for (int code : {0, 41, 42, 200, 255}) {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", code);
    auto msg = dec_hex("095a45454b" + id + buf + "0161");
    ASSERT_TRUE(msg) << code;
    auto& x = std::get<bin::drop_conn_msg>(*msg);
    EXPECT_EQ(static_cast<int>(x.code), code);
    EXPECT_EQ(x.description, "a");
  }
}

TEST(Handshake, FilterCodec) {
  bin::byte_buffer buf;
  bin::encode_filter({"/golden/rt/b", "/golden/rt/new-b"}, buf);
  EXPECT_EQ(hex(buf), "020c2f676f6c64656e2f72742f62102f676f6c64656e2f72742f6e65772d62");
  auto back = bin::decode_filter(buf);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (bin::filter_type{"/golden/rt/b", "/golden/rt/new-b"}));
  auto empty = bin::decode_filter(unhex("00"));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

// -- malformed input ------------------------------------------------------------

TEST(HandshakeMalformed, EveryTruncationIsInvalid) {
  for (auto& [label, str] : valid_payloads()) {
    SCOPED_TRACE(label);
    auto full = unhex(str);
    ASSERT_TRUE(dec(full)) << "the untruncated message must decode";
    for (size_t n = 0; n < full.size(); ++n) {
      SCOPED_TRACE("length " + std::to_string(n));
      bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      auto msg = dec(cut);
      ASSERT_FALSE(msg);
      EXPECT_EQ(msg.error().code(), ec::invalid_message);
    }
  }
}

TEST(HandshakeMalformed, TrailingBytesAreInvalid) {
  for (auto& [label, str] : valid_payloads()) {
    SCOPED_TRACE(label);
    for (auto extra : {"00", "ff", "0000"}) {
      auto msg = dec_hex(str + extra);
      ASSERT_FALSE(msg);
      EXPECT_EQ(msg.error().code(), ec::invalid_message);
    }
  }
  auto trailing = bin::decode_filter(unhex("01016100"));
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code(), ec::invalid_message);
}

TEST(HandshakeMalformed, WrongTagsAreInvalid) {
  // Envelope types 1-5, 0, and anything beyond 12, followed by bytes that
  // would make a valid probe or hello.
  std::string rest = std::string{"5a45454b"} + id_c_hex + "0101";
  for (int tag : {0, 1, 2, 3, 4, 5, 13, 14, 0x7f, 0x80, 0xff}) {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", tag);
    for (auto& tail : {std::string{}, rest}) {
      auto msg = dec_hex(buf + tail);
      ASSERT_FALSE(msg) << tag;
      EXPECT_EQ(msg.error().code(), ec::invalid_message) << tag;
    }
  }
}

TEST(HandshakeMalformed, WrongMagicInEveryMessageThatCarriesOne) {
  std::string id = id_c_hex;
  for (auto magic : {"deadbeef", "5a45454a", "4b45455a", "00000000"}) {
    SCOPED_TRACE(magic);
    for (auto str : {"06" + std::string{magic} + id + "0101",
                     "07" + std::string{magic},
                     "08" + std::string{magic} + id + "01",
                     "09" + std::string{magic} + id + "2600"}) {
      auto msg = dec_hex(str);
      ASSERT_FALSE(msg) << str;
      EXPECT_EQ(msg.error().code(), ec::wrong_magic_number) << str;
    }
  }
  // Tags without a magic do not care about these bytes: a filter count of
  // 0x5a would simply be a lie here.
  auto syn = dec_hex("0a5a45454b");
  ASSERT_FALSE(syn);
  EXPECT_EQ(syn.error().code(), ec::invalid_message);
}

TEST(HandshakeMalformed, FilterCountLies) {
  for (auto str : {
         "0a02012f",         // count 2, one topic
         "0a05",             // count 5, nothing follows
         "0affffffff0f",     // count 2^32-1, nothing follows
         "0affffffff0f00",   // ... and one empty topic
         "0b8080808001",     // count 2^28 in five bytes, nothing follows
         "0a0105612f",       // topic length 5, only 2 bytes
         "0a01ffffffff0f",   // topic length 2^32-1
         "0a01ffffffff1f",   // varbyte beyond 32 bits
         "0a8080808080800001", // varbyte longer than five bytes
         "0a80",             // unterminated varbyte
       }) {
    SCOPED_TRACE(str);
    auto msg = dec_hex(str);
    ASSERT_FALSE(msg);
    EXPECT_EQ(msg.error().code(), ec::invalid_message);
    auto filter = bin::decode_filter(unhex(std::string{str}.substr(2)));
    ASSERT_FALSE(filter);
    EXPECT_EQ(filter.error().code(), ec::invalid_message);
  }
}

TEST(HandshakeMalformed, DropConnDescriptionLengthLies) {
  std::string head = std::string{"095a45454b"} + id_c_hex + "27";
  for (auto tail : {"", "01", "0561", "ffffffff0f", "ffffffff1f", "80"}) {
    SCOPED_TRACE(tail);
    auto msg = dec_hex(head + tail);
    ASSERT_FALSE(msg);
    EXPECT_EQ(msg.error().code(), ec::invalid_message);
  }
}

TEST(HandshakeMalformed, ZeroLengthFrame) {
  auto msg = dec(bytes{});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().code(), ec::invalid_message);
}
