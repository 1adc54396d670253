// The data model: total order, equality, hashing, to_string.
#include "broker/data.hh"

#include <gtest/gtest.h>

#include <cmath>
#include <unordered_set>

using namespace broker;

namespace {

data addr(const char* text) {
  return data{*address::parse(text)};
}

} // namespace

TEST(Data, AlternativeIndexIsTheWireTag) {
  EXPECT_EQ(data{}.get_type(), data_type::none);
  EXPECT_EQ(data{true}.get_type(), data_type::boolean);
  EXPECT_EQ(data{count{1}}.get_type(), data_type::count);
  EXPECT_EQ(data{1}.get_type(), data_type::integer);
  EXPECT_EQ(data{1.0}.get_type(), data_type::real);
  EXPECT_EQ(data{"x"}.get_type(), data_type::string);
  EXPECT_EQ(addr("1.2.3.4").get_type(), data_type::address);
  EXPECT_EQ(data{vector{}}.get_type(), data_type::vector);
  EXPECT_EQ(static_cast<int>(data{table{}}.get_type()), 13);
}

TEST(Data, OrdersByTypeFirstThenValue) {
  // none < boolean < count < integer < real < string ...
  std::vector<data> sorted = {data{},          data{false},  data{true},
                              data{count{0}},  data{count{9}}, data{-5},
                              data{7},         data{-1.0},   data{2.5},
                              data{""},        data{"a"},    data{"b"},
                              addr("::1"),     addr("1.2.3.4")};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    EXPECT_LT(sorted[i], sorted[i + 1]) << i;
    EXPECT_FALSE(sorted[i + 1] < sorted[i]) << i;
  }
  // A count never equals an integer of the same value.
  EXPECT_NE(data{count{1}}, data{1});
  EXPECT_LT(data{count{100}}, data{-100});
}

TEST(Data, ContainersCompareLexicographically) {
  EXPECT_LT((data{vector{1, 2}}), (data{vector{1, 3}}));
  EXPECT_LT((data{vector{1, 2}}), (data{vector{1, 2, 0}}));
  EXPECT_EQ((data{vector{1, "x"}}), (data{vector{1, "x"}}));
  EXPECT_LT((data{set{1}}), (data{set{2}}));
  EXPECT_LT((data{table{{1, 2}}}), (data{table{{1, 3}}}));
}

TEST(Data, RealsHaveATotalOrderWithNaN) {
  data nan1{std::nan("")};
  data nan2{-std::nan("")};
  EXPECT_EQ(nan1, nan2);
  EXPECT_LT(data{1e308}, nan1);
  EXPECT_LT(data{-INFINITY}, data{INFINITY});
  EXPECT_EQ(data{0.0}, data{-0.0});
  set xs{nan1, nan2, data{1.0}};
  EXPECT_EQ(xs.size(), 2u);
}

TEST(Data, HashIsConsistentWithEquality) {
  std::vector<data> values = {
    data{},         data{true},       data{count{3}},    data{3},
    data{0.0},      data{"abc"},      addr("10.0.0.1"),  addr("::2"),
    data{port{80, port::protocol::tcp}}, data{timespan{5}},
    data{timestamp{timespan{5}}}, data{enum_value{"E"}},
    data{set{1, 2}}, data{table{{"k", vector{1}}}}, data{vector{1, "x"}}};
  for (auto& x : values) {
    auto copy = x;
    EXPECT_EQ(hash_value(x), hash_value(copy));
  }
  EXPECT_EQ(hash_value(data{0.0}), hash_value(data{-0.0}));
  EXPECT_EQ(hash_value(data{std::nan("")}), hash_value(data{-std::nan("")}));
  std::unordered_set<data> uniq(values.begin(), values.end());
  EXPECT_EQ(uniq.size(), values.size());
}

TEST(Data, ToStringUsesBrokersTextForm) {
  EXPECT_EQ(to_string(data{}), "nil");
  EXPECT_EQ(to_string(data{true}), "T");
  EXPECT_EQ(to_string(data{vector{1, "two", 3.5}}), "(1, two, 3.500000)");
  EXPECT_EQ(to_string(data{1e18}), "1000000000000000000.000000");
  EXPECT_EQ(to_string(data{1e-7}), "0.000000");
  EXPECT_EQ(to_string(data{set{count{1}, count{2}}}), "{1, 2}");
  EXPECT_EQ(to_string(data{table{{"a", 1}}}), "{a -> 1}");
  EXPECT_EQ(to_string(data{port{53, port::protocol::udp}}), "53/udp");
  EXPECT_EQ(to_string(data{port{0, port::protocol::unknown}}), "0/?");
  EXPECT_EQ(to_string(data{timespan{7000}}), "7000ns");
}

TEST(Address, IPv4IsStoredV4MappedAndPrintedAsIPv4) {
  auto a = address::parse("192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->bytes()[10], 0xff);
  EXPECT_EQ(a->bytes()[11], 0xff);
  EXPECT_EQ(a->to_string(), "192.0.2.1");
  auto b = address::parse("::ffff:192.0.2.1");
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(address::parse("2001:DB8:0:0:0:0:0:1")->to_string(), "2001:db8::1");
  EXPECT_FALSE(address::parse("300.1.2.3"));
  EXPECT_FALSE(address::parse("1.2.3"));
  EXPECT_FALSE(address::parse(""));
  EXPECT_FALSE(address::parse(std::string(200, '1')));
}

TEST(Subnet, IsMaskedAndKeepsTheV6Length) {
  auto sn = subnet::parse("192.0.2.77/24");
  ASSERT_TRUE(sn);
  EXPECT_EQ(sn->to_string(), "192.0.2.0/24");
  EXPECT_EQ(sn->length(), 24u);
  EXPECT_EQ(sn->raw_length(), 120u);
  EXPECT_TRUE(sn->contains(*address::parse("192.0.2.200")));
  EXPECT_FALSE(sn->contains(*address::parse("192.0.3.1")));
  EXPECT_FALSE(subnet::parse("10.0.0.0/33"));
  EXPECT_FALSE(subnet::parse("::/129"));
  EXPECT_FALSE(subnet::parse("10.0.0.0/"));
  EXPECT_FALSE(subnet::parse("10.0.0.0/x"));
  EXPECT_EQ(subnet::parse("2001:db8::1/32")->to_string(), "2001:db8::/32");
  EXPECT_FALSE(subnet::from_raw(address{}, 129));
}

TEST(Port, ParsesAndPrints) {
  EXPECT_EQ(port::parse("443/tcp"), (port{443, port::protocol::tcp}));
  EXPECT_EQ(port::parse("8/icmp"), (port{8, port::protocol::icmp}));
  EXPECT_EQ(port::parse("80"), (port{80, port::protocol::tcp}));
  EXPECT_EQ(port::parse("1/sctp"), (port{1, port::protocol::unknown}));
  EXPECT_FALSE(port::parse("70000/tcp"));
  EXPECT_FALSE(port::parse("/tcp"));
  EXPECT_LT((port{80, port::protocol::tcp}), (port{80, port::protocol::udp}));
}
