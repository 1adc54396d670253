// Local consumers: participants see what matches their topics, and a hook
// that removes a participant (a WebSocket session closing itself while a
// message is being delivered) costs no other participant that message.
#include "core/local_consumers.hh"

#include <gtest/gtest.h>

#include <vector>

using namespace broker;
using namespace broker::detail;

namespace {

struct fixture {
  configuration cfg;
  net::loop loop;
  statuses st{16};
  local_consumers locals{cfg, loop, st};

  void deliver(const std::string& topic) {
    locals.deliver_data(topic, message_source{nullptr, false, std::nullopt,
                                              false},
                        [&] {
                          return std::make_shared<data_message>(
                            data_message{topic, data{count{1}}});
                        });
  }
};

} // namespace

TEST(LocalConsumers, ParticipantsGetWhatMatchesTheirTopics) {
  fixture f;
  std::vector<std::string> got;
  participant_hooks hooks;
  hooks.on_data = [&](const data_message_ptr& m, bool) {
    got.push_back(m->topic);
  };
  f.locals.add_participant({"/a"}, hooks);
  f.deliver("/a/x");
  f.deliver("/b/x");
  EXPECT_EQ(got, std::vector<std::string>{"/a/x"});
}

TEST(LocalConsumers, AHookRemovingAParticipantCostsTheOthersNothing) {
  fixture f;
  int first = 0;
  int second = 0;
  int third = 0;
  participant_id second_id = 0;
  participant_hooks h1;
  h1.on_data = [&](const data_message_ptr&, bool) {
    ++first;
    // Removes itself and the next one while the core loops over them.
    f.locals.remove_participant(1);
    f.locals.remove_participant(second_id);
  };
  participant_hooks h2;
  h2.on_data = [&](const data_message_ptr&, bool) { ++second; };
  participant_hooks h3;
  h3.on_data = [&](const data_message_ptr&, bool) { ++third; };
  EXPECT_EQ(f.locals.add_participant({"/t"}, h1), 1u);
  second_id = f.locals.add_participant({"/t"}, h2);
  f.locals.add_participant({"/t"}, h3);
  f.deliver("/t/x");
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0); // removed before its turn
  EXPECT_EQ(third, 1);  // not skipped because the vector shrank
  f.deliver("/t/y");
  EXPECT_EQ(first, 1);
  EXPECT_EQ(third, 2);
  EXPECT_EQ(f.locals.filter(), filter_type{"/t"});
}
