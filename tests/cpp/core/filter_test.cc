// Subscription filters as real Broker advertises them.
#include "core/filter.hh"

#include <gtest/gtest.h>

using namespace broker::detail;

TEST(Filter, IsSortedWithoutDuplicatesOrCoveredEntries) {
  auto f = normalize_filter({"/b", "/a/x", "/a", "/b", "/c/d", "/c"});
  EXPECT_EQ(f, (filter_type{"/a", "/b", "/c"}));
  EXPECT_EQ(normalize_filter({}), filter_type{});
}

TEST(Filter, MatchesByPlainPrefix) {
  filter_type f{"/test", "zeek/event/"};
  EXPECT_TRUE(filter_matches(f, "/testing"));
  EXPECT_TRUE(filter_matches(f, "zeek/event/ping"));
  EXPECT_FALSE(filter_matches(f, "zeek/events"));
  EXPECT_FALSE(filter_matches({}, "/x"));
  EXPECT_TRUE(filter_matches({""}, "/anything"));
}

TEST(Filter, LocalTopicsAreNeverAdvertised) {
  EXPECT_TRUE(is_local_only("<$>/local/data/statuses"));
  EXPECT_FALSE(is_local_only("store/<$>/data/master"));
}
