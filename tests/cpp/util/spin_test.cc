// The adaptive spin (util/spin.hh): quick successes lengthen the next spin
// up to a cap, slow successes halve it, a wait that must block ends
// spinning until a wait succeeds again.
#include "util/spin.hh"

#include <gtest/gtest.h>

using broker::detail::adaptive_spin;

TEST(adaptive_spin, quick_successes_grow_the_budget_to_a_cap) {
  adaptive_spin spin;
  EXPECT_EQ(spin.budget_ns(), adaptive_spin::initial_ns);
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(spin.wait([] { return true; }));
  EXPECT_EQ(spin.budget_ns(), adaptive_spin::max_ns);
}

TEST(adaptive_spin, a_failure_stops_spinning_and_a_success_starts_again) {
  adaptive_spin spin;
  EXPECT_FALSE(spin.wait([] { return false; }));
  EXPECT_EQ(spin.budget_ns(), 0);
  // With no budget the predicate still gets its looks (a few spins and one
  // yield), so a waiter whose answer is already there does not block.
  int looks = 0;
  EXPECT_TRUE(spin.wait([&] { return ++looks == 10; }));
  EXPECT_GT(spin.budget_ns(), 0);
}

TEST(adaptive_spin, a_success_after_many_yields_halves_the_budget) {
  // A budget no loaded machine exhausts in five yields.
  constexpr int64_t ten_seconds = 10'000'000'000;
  adaptive_spin spin{ten_seconds};
  // 32 looks between pure spins, then one look per yield: true on the
  // fifth yield.
  int looks = 0;
  EXPECT_TRUE(spin.wait([&] { return ++looks == 32 + 5; }));
  EXPECT_EQ(spin.budget_ns(), ten_seconds / 2);
}
