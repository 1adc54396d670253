// Data-store commands (payload of command envelopes): every command captured
// from a real Broker (store-master-clone.json) decodes to what the capture's
// `decoded` text says and re-encodes byte for byte; synthetic commands of
// every kind round-trip; malformed input is rejected.
#include "format/bin/store_command.hh"

#include "format/bin/envelope.hh"

#include "golden.hh"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace broker;
using namespace broker::format::bin;
using broker::test::hex;
using broker::test::unhex;

namespace {

using bytes = std::vector<std::byte>;

constexpr const char* golden_file = "store-master-clone.json";

// seq (8) + sender (24) + receiver (24).
constexpr size_t variant_index_offset = 56;

struct golden_command {
  std::string meaning;
  std::string decoded;
  bytes payload;
};

/// Replaces every occurrence of `from` in `str` with `to`.
std::string replace_all(std::string str, const std::string& from,
                        const std::string& to) {
  for (auto pos = str.find(from); pos != std::string::npos;
       pos = str.find(from, pos + to.size()))
    str.replace(pos, from.size(), to);
  return str;
}

struct golden_store {
  std::string id_a;
  std::string id_b;
  std::vector<golden_command> commands;
};

const golden_store& load_store_golden() {
  static const golden_store result = [] {
    golden_store out;
    auto doc = broker::test::load_golden(golden_file);
    out.id_a = doc["endpoints"]["A"]["id"].get<std::string>();
    out.id_b = doc["endpoints"]["B"]["id"].get<std::string>();
    for (auto& frame : doc["frames"]) {
      auto meaning = frame["meaning"].get<std::string>();
      if (meaning.rfind("command", 0) != 0)
        continue;
      auto raw = unhex(frame["hex"].get<std::string>());
      EXPECT_GE(raw.size(), 4u);
      uint32_t len = 0;
      for (size_t i = 0; i < 4; ++i)
        len = (len << 8) | static_cast<uint8_t>(raw[i]);
      EXPECT_EQ(len, raw.size() - 4) << meaning;
      auto env = read_envelope(std::span<const std::byte>{raw}.subspan(4));
      EXPECT_TRUE(env.has_value()) << meaning;
      if (!env)
        continue;
      EXPECT_EQ(env->type, msg_type::command) << meaning;
      EXPECT_NE(meaning.find("topic=" + std::string{env->topic}),
                std::string::npos)
        << meaning;
      out.commands.push_back(golden_command{
        meaning, frame["decoded"].get<std::string>(),
        bytes(env->payload.begin(), env->payload.end())});
    }
    return out;
  }();
  return result;
}

std::string last_word(const std::string& str) {
  return str.substr(str.rfind(' ') + 1);
}

endpoint_id id_of(const std::string& text) {
  auto id = endpoint_id::parse(text);
  EXPECT_TRUE(id.has_value()) << text;
  return id.value_or(endpoint_id{});
}

bytes encoded(const store_command& cmd) {
  bytes out;
  encode(cmd, out);
  return out;
}

/// The first golden payload of the given kind.
bytes golden_payload(const std::string& kind) {
  for (auto& cmd : load_store_golden().commands)
    if (last_word(cmd.meaning) == kind)
      return cmd.payload;
  ADD_FAILURE() << "no golden " << kind;
  return {};
}

void expect_invalid(const bytes& buf, const std::string& what) {
  auto res = decode_store_command(buf);
  ASSERT_FALSE(res.has_value()) << what << ": " << hex(buf);
  EXPECT_EQ(res.error().code(), ec::invalid_message) << what;
}

/// The 57-byte prefix (seq, sender, receiver, variant index) of a command.
bytes header(uint8_t index) {
  store_command cmd{7, entity{endpoint_id::random(), 9}, entity{},
                    keepalive_command{1}};
  auto out = encoded(cmd);
  out.resize(variant_index_offset);
  out.push_back(static_cast<std::byte>(index));
  return out;
}

void append_u64(bytes& out, uint64_t x) {
  write_be<uint64_t>(out, x);
}

/// One command of every kind, with non-trivial field values.
std::vector<store_command> synthetic_commands() {
  auto a = entity{endpoint_id::random(), 9};
  auto b = entity{endpoint_id::random(), 10};
  auto nil = entity{};
  std::vector<store_command> result;
  auto add = [&](uint64_t seq, command_variant content) {
    result.push_back(store_command{seq, a, b, std::move(content)});
  };
  add(2, put_command{data{"k"}, data{count{1}}, timespan{-5}, a});
  add(3, put_unique_command{data{vector{data{1}, data{"x"}}},
                            data{table{{data{"a"}, data{2.5}}}},
                            std::nullopt, b, 0xFFFFFFFFFFFFFFFFull, a});
  add(4, put_unique_result_command{true, b, 42, a});
  add(5, erase_command{data{set{data{1}, data{2}}}, nil});
  add(6, expire_command{data{}, a});
  add(7, add_command{data{"k"}, data{"v"}, data_type::enum_value,
                     timespan{1'000'000'000}, b});
  add(8, subtract_command{data{"k"}, data{integer{-3}}, std::nullopt, a});
  add(9, clear_command{b});
  add(0, attach_writer_command{1, 0xFFFF});
  add(0, keepalive_command{123456789});
  add(0, cumulative_ack_command{0});
  add(0, nack_command{{}});
  add(0, nack_command{{1, 2, 0x8000000000000000ull}});
  add(1, ack_clone_command{1, 5, {}});
  add(1, ack_clone_command{
           7, 5, {{data{"z"}, data{1}}, {data{"a"}, data{vector{}}}}});
  add(0, retransmit_failed_command{99});
  return result;
}

} // namespace

// -- golden captures ----------------------------------------------------------

TEST(StoreCommandGolden, EveryCommandDecodesAndReencodesByteForByte) {
  auto& golden = load_store_golden();
  std::map<std::string, int> kinds;
  for (auto& cmd : golden.commands) {
    SCOPED_TRACE(cmd.decoded);
    auto res = decode_store_command(cmd.payload);
    ASSERT_TRUE(res.has_value()) << res.error().message();
    auto kind = last_word(cmd.meaning);
    EXPECT_EQ(command_name(res->content), kind);
    ++kinds[kind];
    // The rendering equals the capture's text after the topic, with the
    // endpoint ids replaced by A and B.
    auto pos = cmd.decoded.find(" seq=");
    ASSERT_NE(pos, std::string::npos);
    auto text = replace_all(replace_all(to_string(*res), golden.id_a, "A"),
                            golden.id_b, "B");
    EXPECT_EQ(text, cmd.decoded.substr(pos + 1));
    EXPECT_EQ(hex(encoded(*res)), hex(cmd.payload));
  }
  EXPECT_EQ(golden.commands.size(), 387u);
  std::map<std::string, int> expected_kinds{
    {"cumulative_ack", 170}, {"keepalive", 163}, {"put", 28}, {"add", 5},
    {"put_unique_result", 4}, {"subtract", 4},   {"erase", 3}, {"clear", 3},
    {"expire", 2},           {"put_unique", 2},  {"nack", 1},  {"ack_clone", 1},
    {"attach_writer", 1},
  };
  EXPECT_EQ(kinds, expected_kinds);
}

TEST(StoreCommandGolden, FieldsMatchTheCapture) {
  auto& golden = load_store_golden();
  auto a = id_of(golden.id_a);
  auto b = id_of(golden.id_b);
  auto find = [&](const std::string& needle) -> store_command {
    for (auto& cmd : golden.commands)
      if (cmd.decoded.find(needle) != std::string::npos) {
        auto res = decode_store_command(cmd.payload);
        EXPECT_TRUE(res.has_value());
        if (res)
          return *res;
      }
    ADD_FAILURE() << "not found: " << needle;
    return {};
  };
  // Clone attach: nack(seqs=[0]) with a nil receiver.
  auto nack = find("nack(seqs=[0])");
  EXPECT_EQ(nack.seq, 0u);
  EXPECT_EQ(nack.sender, (entity{b, 9}));
  EXPECT_TRUE(nack.receiver.is_nil());
  ASSERT_EQ(nack.content.index(), 11u);
  EXPECT_EQ(std::get<nack_command>(nack.content).seqs,
            std::vector<uint64_t>{0});
  // The snapshot, in wire (hash) order.
  auto ack = find("ack_clone(");
  EXPECT_EQ(ack.seq, 1u);
  EXPECT_EQ(ack.sender, (entity{a, 9}));
  EXPECT_EQ(ack.receiver, (entity{b, 9}));
  auto& ac = std::get<ack_clone_command>(ack.content);
  EXPECT_EQ(ac.offset, 1u);
  EXPECT_EQ(ac.heartbeat_interval, 5u);
  ASSERT_EQ(ac.state.size(), 6u);
  EXPECT_EQ(ac.state[0].first, data{"init"});
  EXPECT_EQ(ac.state[0].second, data{"hello"});
  EXPECT_EQ(ac.state[1].second, data{count{10}});
  EXPECT_EQ(ac.state[2].first, data{"k-str"});
  EXPECT_EQ(ac.state[3].first, data{"k-set"});
  EXPECT_EQ(ac.state[3].second, (data{set{data{1}, data{2}}}));
  // Master put.
  auto put = find("put(key=string \"k-put\"");
  EXPECT_EQ(put.seq, 2u);
  auto& p = std::get<put_command>(put.content);
  EXPECT_EQ(p.key, data{"k-put"});
  EXPECT_EQ(p.value, data{"v1"});
  EXPECT_FALSE(p.expiry.has_value());
  EXPECT_EQ(p.publisher, (entity{a, 9}));
  // Put with expiry.
  auto exp = find("seq=3 sender=A#9 receiver=nil#0 put(");
  auto& pe = std::get<put_command>(exp.content);
  EXPECT_EQ(pe.key, data{"k-exp"});
  EXPECT_EQ(pe.value, data{"short-lived"});
  EXPECT_EQ(pe.expiry, timespan{1'000'000'000});
  // Put forwarded by the master on behalf of the clone.
  auto fwd = find("seq=22 sender=A#9");
  auto& pf = std::get<put_command>(fwd.content);
  EXPECT_EQ(pf.key, data{"k-from-clone"});
  EXPECT_EQ(pf.publisher, (entity{b, 9}));
  // Clone put_unique and its result.
  auto pu = find("put_unique(key=string \"k-uniq-c\", value=string \"second\"");
  EXPECT_EQ(pu.seq, 3u);
  auto& puc = std::get<put_unique_command>(pu.content);
  EXPECT_EQ(puc.who, (entity{b, 10}));
  EXPECT_EQ(puc.req_id, 2u);
  auto pur = find("seq=21 ");
  auto& purc = std::get<put_unique_result_command>(pur.content);
  EXPECT_FALSE(purc.inserted);
  EXPECT_EQ(purc.who, (entity{b, 10}));
  EXPECT_EQ(purc.req_id, 2u);
  // add with init_type.
  auto addc = find("init_type=table");
  auto& ad = std::get<add_command>(addc.content);
  EXPECT_EQ(ad.init_type, data_type::table);
  EXPECT_EQ(ad.value, (data{vector{data{"c"}, data{3}}}));
  // Control commands.
  auto aw = find("attach_writer(");
  EXPECT_EQ(std::get<attach_writer_command>(aw.content),
            (attach_writer_command{1, 5}));
  auto ka = find("keepalive(seq=1)");
  EXPECT_EQ(ka.seq, 0u);
  EXPECT_EQ(ka.sender.object, 9u);
}

// -- synthetic round trips ----------------------------------------------------

TEST(StoreCommand, EveryKindRoundTrips) {
  std::vector<bool> seen(store_command_kinds, false);
  for (auto& cmd : synthetic_commands()) {
    SCOPED_TRACE(to_string(cmd));
    seen[cmd.content.index()] = true;
    auto buf = encoded(cmd);
    EXPECT_EQ(static_cast<uint8_t>(buf[variant_index_offset]),
              cmd.content.index());
    auto res = decode_store_command(buf);
    ASSERT_TRUE(res.has_value()) << res.error().message();
    EXPECT_EQ(*res, cmd);
    EXPECT_EQ(encoded(*res), buf);
  }
  for (size_t i = 0; i < seen.size(); ++i)
    EXPECT_TRUE(seen[i]) << command_name(i);
}

TEST(StoreCommand, EncodingLayout) {
  store_command cmd{0x0102030405060708ull, entity{}, entity{},
                    put_command{data{"k"}, data{count{1}}, timespan{2},
                                entity{}}};
  cmd.sender.object = 9;
  auto buf = encoded(cmd);
  EXPECT_EQ(hex(buf),
            "0102030405060708"                                 // seq
            "00000000000000000000000000000000" "0000000000000009" // sender
            "00000000000000000000000000000000" "0000000000000000" // receiver
            "00"                                               // put
            "05016b" "020000000000000001"                      // key, value
            "010000000000000002"                               // expiry
            "00000000000000000000000000000000" "0000000000000000");
}

TEST(StoreCommand, NamesAndRendering) {
  EXPECT_EQ(command_name(0), "put");
  EXPECT_EQ(command_name(13), "retransmit_failed");
  EXPECT_EQ(command_name(14), "<invalid>");
  EXPECT_EQ(to_string(command_variant{nack_command{{1, 2}}}),
            "nack(seqs=[1, 2])");
  EXPECT_EQ(to_string(command_variant{put_command{
              data{vector{data{}, data{true}, data{1.0}}},
              data{"a\"b"}, timespan{5}, entity{}}}),
            "put(key=vector [nil, T, real 1.0], value=string \"a\\\"b\", "
            "expiry=5ns, publisher=nil#0)");
}

// -- malformed input ----------------------------------------------------------

TEST(StoreCommandMalformed, EveryTruncationIsRejected) {
  std::vector<bytes> inputs;
  for (auto kind : {"put", "put_unique", "put_unique_result", "erase",
                    "expire", "add", "subtract", "clear", "attach_writer",
                    "keepalive", "cumulative_ack", "nack", "ack_clone"})
    inputs.push_back(golden_payload(kind));
  for (auto& cmd : synthetic_commands())
    inputs.push_back(encoded(cmd));
  for (auto& full : inputs) {
    ASSERT_TRUE(decode_store_command(full).has_value()) << hex(full);
    for (size_t n = 0; n < full.size(); ++n)
      expect_invalid(bytes(full.begin(), full.begin() + n),
                     "prefix " + std::to_string(n) + " of " + hex(full));
  }
}

TEST(StoreCommandMalformed, BadVariantIndex) {
  auto buf = golden_payload("keepalive");
  ASSERT_TRUE(decode_store_command(buf).has_value());
  for (uint8_t index : {14, 15, 127, 255}) {
    buf[variant_index_offset] = static_cast<std::byte>(index);
    expect_invalid(buf, "index " + std::to_string(index));
  }
}

TEST(StoreCommandMalformed, NackCountLie) {
  // Claims 3 sequence numbers, carries one.
  auto buf = header(11);
  write_varbyte(buf, 3);
  append_u64(buf, 1);
  expect_invalid(buf, "nack count 3");
  // The largest count a varbyte can carry.
  buf = header(11);
  write_varbyte(buf, 0xFFFFFFFF);
  append_u64(buf, 1);
  expect_invalid(buf, "nack count 2^32-1");
  // A varbyte longer than 5 bytes.
  buf = header(11);
  for (int i = 0; i < 6; ++i)
    buf.push_back(std::byte{0x80});
  buf.push_back(std::byte{0x00});
  expect_invalid(buf, "nack overlong varbyte");
  // Sanity: the honest version decodes.
  buf = header(11);
  write_varbyte(buf, 1);
  append_u64(buf, 1);
  EXPECT_TRUE(decode_store_command(buf).has_value());
}

TEST(StoreCommandMalformed, StateSizeLie) {
  auto body = [](uint32_t n) {
    auto buf = header(12);
    append_u64(buf, 1);
    write_be<uint16_t>(buf, 5);
    write_varbyte(buf, n);
    encode(data{"k"}, buf);
    encode(data{"v"}, buf);
    return buf;
  };
  EXPECT_TRUE(decode_store_command(body(1)).has_value());
  expect_invalid(body(2), "state size 2");
  expect_invalid(body(1000), "state size 1000");
  expect_invalid(body(0xFFFFFFFF), "state size 2^32-1");
  // The golden snapshot with its count (6) raised to 7.
  auto buf = golden_payload("ack_clone");
  ASSERT_EQ(static_cast<uint8_t>(buf[variant_index_offset + 11]), 6);
  buf[variant_index_offset + 11] = std::byte{7};
  expect_invalid(buf, "golden state size 7");
}

TEST(StoreCommandMalformed, DuplicateSnapshotKey) {
  auto buf = header(12);
  append_u64(buf, 1);
  write_be<uint16_t>(buf, 5);
  write_varbyte(buf, 2);
  for (int i = 0; i < 2; ++i) {
    encode(data{"k"}, buf);
    encode(data{i}, buf);
  }
  expect_invalid(buf, "duplicate key");
}

TEST(StoreCommandMalformed, BadOptionalTag) {
  // put: key, value, then the expiry tag.
  auto buf = golden_payload("put");
  auto res = decode_store_command(buf);
  ASSERT_TRUE(res.has_value());
  auto& p = std::get<put_command>(res->content);
  bytes prefix;
  encode(p.key, prefix);
  encode(p.value, prefix);
  auto tag_pos = variant_index_offset + 1 + prefix.size();
  ASSERT_EQ(static_cast<uint8_t>(buf[tag_pos]), 0);
  for (uint8_t tag : {2, 255}) {
    buf[tag_pos] = static_cast<std::byte>(tag);
    expect_invalid(buf, "optional tag " + std::to_string(tag));
  }
}

TEST(StoreCommandMalformed, TrailingBytes) {
  for (auto kind : {"put", "keepalive", "ack_clone", "nack", "clear"}) {
    auto buf = golden_payload(kind);
    buf.push_back(std::byte{0});
    expect_invalid(buf, std::string{"trailing byte after "} + kind);
  }
}

TEST(StoreCommandMalformed, BoolByteTwo) {
  auto buf = golden_payload("put_unique_result");
  ASSERT_TRUE(decode_store_command(buf).has_value());
  buf[variant_index_offset + 1] = std::byte{2};
  expect_invalid(buf, "inserted=2");
}

TEST(StoreCommandMalformed, BadInitType) {
  auto buf = golden_payload("add");
  auto res = decode_store_command(buf);
  ASSERT_TRUE(res.has_value());
  auto& a = std::get<add_command>(res->content);
  bytes prefix;
  encode(a.key, prefix);
  encode(a.value, prefix);
  auto pos = variant_index_offset + 1 + prefix.size();
  ASSERT_EQ(static_cast<uint8_t>(buf[pos]),
            static_cast<uint8_t>(a.init_type));
  buf[pos] = std::byte{15};
  expect_invalid(buf, "init_type 15");
}

TEST(StoreCommandMalformed, BadValuesAndDepthLimit) {
  // erase with an unknown value tag.
  auto buf = header(3);
  buf.push_back(std::byte{15});
  append_u64(buf, 0);
  expect_invalid(buf, "value tag 15");
  // A key nested deeper than the limit.
  data key{count{1}};
  for (int i = 0; i < 10; ++i)
    key = data{vector{key}};
  store_command cmd{1, {}, {}, erase_command{key, {}}};
  auto deep = encoded(cmd);
  EXPECT_TRUE(decode_store_command(deep).has_value());
  auto res = decode_store_command(deep, decode_limits{5});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code(), ec::invalid_message);
}
