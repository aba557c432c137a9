#include "router/traffic_split.h"

#include <gtest/gtest.h>

#include <string>

namespace lastgood {
namespace {

TEST(SmoothWeighted, SpreadsFiveOneOneAsNginxDoes) {
  int weights[] = {5, 1, 1};
  int64_t current[3] = {};
  std::string picks;
  for (int i = 0; i < 14; ++i)
    picks += static_cast<char>('a' + PickSmoothWeighted(weights, current, 3));
  EXPECT_EQ(picks, "aabacaaaabacaa");
}

TEST(SmoothWeighted, GivesEachVersionItsShareWithinOnePercentOverTenThousandPicks) {
  int weights[] = {10, 30, 60};
  int64_t current[3] = {};
  int counts[3] = {};
  for (int i = 0; i < 10'000; ++i) counts[PickSmoothWeighted(weights, current, 3)]++;
  EXPECT_NEAR(counts[0], 1'000, 100);
  EXPECT_NEAR(counts[1], 3'000, 100);
  EXPECT_NEAR(counts[2], 6'000, 100);
}

TEST(SmoothWeighted, SkipsZeroWeightsAndReportsNoneWhenAllAreZero) {
  int weights[] = {0, 1, 0};
  int64_t current[3] = {};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(PickSmoothWeighted(weights, current, 3), 1);
  int none[] = {0, 0};
  int64_t c2[2] = {};
  EXPECT_EQ(PickSmoothWeighted(none, c2, 2), -1);
}

TEST(SlotPin, ReadsTheCookieAmongOthers) {
  EXPECT_EQ(CookieValue("a=1; lastgood-slot=staging; b=2", kSlotCookie), "staging");
  EXPECT_EQ(CookieValue("lastgood-slot=\"staging\"", kSlotCookie), "staging");
  EXPECT_EQ(CookieValue("xlastgood-slot=staging", kSlotCookie), "");
  EXPECT_EQ(CookieValue("", kSlotCookie), "");
}

TEST(SlotPin, ReadsTheQueryParameter) {
  EXPECT_EQ(QueryValue("/a?x=1&lastgood-slot=staging&y=2", kSlotQueryParameter), "staging");
  EXPECT_EQ(QueryValue("/a?lastgood-slot=staging#frag", kSlotQueryParameter), "staging");
  EXPECT_EQ(QueryValue("/lastgood-slot=staging", kSlotQueryParameter), "");
  EXPECT_EQ(QueryValue("/a?my-lastgood-slot=staging", kSlotQueryParameter), "");
}

}  // namespace
}  // namespace lastgood
