// Topics: joining and Broker's plain string-prefix matching.
#include "broker/topic.hh"

#include <gtest/gtest.h>

using namespace broker;

TEST(Topic, JoinsAsRealBroker) {
  // Expected values measured with real Broker 2.8's Topic.__truediv__.
  EXPECT_EQ((topic{"a"} / topic{"b"}).string(), "a/b");
  EXPECT_EQ((topic{"/a/"} / topic{"/b/c"}).string(), "/a//b/c");
  EXPECT_EQ((topic{"a/"} / topic{"b"}).string(), "a//b");
  EXPECT_EQ((topic{"a"} / topic{"/b"}).string(), "a/b");
  EXPECT_EQ((topic{"a"} / topic{"//b"}).string(), "a//b");
  EXPECT_EQ((topic{"a//"} / topic{"b"}).string(), "a///b");
  EXPECT_EQ((topic{"/"} / topic{"/"}).string(), "/");
  EXPECT_EQ((topic{""} / topic{"b"}).string(), "b");
  EXPECT_EQ((topic{"a"} / topic{""}).string(), "a");
  EXPECT_EQ((topic{"a/"} / topic{""}).string(), "a");
  EXPECT_EQ((topic{"a"} / topic{"b/"}).string(), "a/b");
}

TEST(Topic, MatchesByPlainStringPrefix) {
  topic sub{"/test"};
  EXPECT_TRUE(sub.prefix_of("/test"));
  EXPECT_TRUE(sub.prefix_of("/test/1"));
  EXPECT_TRUE(sub.prefix_of("/testing")); // real Broker's rule
  EXPECT_FALSE(sub.prefix_of("/tes"));
  EXPECT_FALSE(sub.prefix_of("/other/test"));
  EXPECT_TRUE(topic{""}.prefix_of("anything"));
}

TEST(Topic, RecognisesReservedTopics) {
  EXPECT_TRUE(topic::is_reserved("<$>/local/data/statuses"));
  EXPECT_TRUE(topic::is_reserved("mystore/<$>/data/master"));
  EXPECT_FALSE(topic::is_reserved("/zeek/event/ping"));
  EXPECT_FALSE(topic::is_reserved("a<$>b"));
}
