#include "health/sequential_judge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lastgood {
namespace {

using ::testing::HasSubstr;

// One 1 ms bin at [ms, ms + 1) holding `n` latencies.
LatencyHistogram At(double ms, uint64_t n) { return {{ms, ms + 1, n}}; }

TEST(ConfidenceText, WritesTheConfidenceAsPeopleDo) {
  EXPECT_EQ(ConfidenceText(0.001), "99.9%");
  EXPECT_EQ(ConfidenceText(0.0005), "99.95%");
  EXPECT_EQ(ConfidenceText(0.05), "95%");
}

TEST(SequentialJudge, SaysInWordsHowMuchWorseTheCanaryIsWhenItFailsIt) {
  SequentialJudge judge(JudgeOptions{});
  // Looks of 20 canary and 80 stable requests: the canary fails 2 or 3 of each, stable 1.
  for (int look = 0; look < 6; ++look)
    judge.Look({20, look % 2 ? 3u : 2u}, {80, 1}, nullptr, nullptr);
  SequentialVerdict v = judge.Explain(Millis(1400));
  EXPECT_EQ(v.verdict, JudgeVerdict::kWorse);
  EXPECT_EQ(v.detail,
            "canary 15 of 120 failed, stable 6 of 480: worse by 11.2 points, beyond the 2-point "
            "tolerance with 99.9% confidence, after 1.4 s");
  EXPECT_EQ(v.towardWorse, 1.0);
}

TEST(SequentialJudge, SaysWhenAGoodCanaryIsShownWithinTheTolerance) {
  SequentialJudge judge(JudgeOptions{});
  JudgeVerdict v = JudgeVerdict::kUndecided;
  for (int look = 0; look < 100 && v == JudgeVerdict::kUndecided; ++look)
    v = judge.Look({20, 0}, {80, 0}, nullptr, nullptr);
  EXPECT_EQ(v, JudgeVerdict::kWithin);
  EXPECT_EQ(judge.Explain(Millis(2300)).detail,
            "canary 0 of 460 failed, stable 0 of 1840: as good, within the 2-point tolerance "
            "with 99.9% confidence, after 2.3 s");
}

TEST(SequentialJudge, IsUndecidedUntilTheEvidenceIsEnoughAndSaysSo) {
  SequentialJudge judge(JudgeOptions{});
  EXPECT_THAT(judge.Explain(Millis(0)).detail, HasSubstr("waiting for requests to both"));
  for (int look = 0; look < 5; ++look)
    judge.Look({20, look == 0}, {80, look == 0}, nullptr, nullptr);
  SequentialVerdict v = judge.Explain(Millis(500));
  EXPECT_EQ(v.verdict, JudgeVerdict::kUndecided);
  EXPECT_THAT(v.detail, HasSubstr("canary 1 of 100 failed, stable 1 of 400: worse by 0.8 points "
                                  "so far, not yet shown beyond or within the 2-point tolerance"));
  EXPECT_GT(v.towardWithin, 0.0);
  EXPECT_LT(v.towardWithin, 1.0);
}

TEST(SequentialJudge, FailsOnLatencyAloneAndSaysThatFirst) {
  JudgeOptions o;
  o.latency = LatencyTolerance{0.2, 0};
  SequentialJudge judge(o);
  JudgeVerdict v = judge.Look({500, 0}, {2000, 0}, nullptr, nullptr);
  EXPECT_EQ(v, JudgeVerdict::kUndecided);
  LatencyHistogram canary = At(60, 500), stable = At(10, 2000);
  v = judge.Look({0, 0}, {0, 0}, &canary, &stable);
  EXPECT_EQ(v, JudgeVerdict::kWorse);
  EXPECT_THAT(judge.Explain(Millis(3000)).detail,
              HasSubstr("canary p99 60.5 ms, stable p99 10.5 ms: slower than the 20% tolerance "
                        "allows with 99.95% confidence"));
  EXPECT_EQ(judge.Explain(Millis(3000)).detail.find("canary p99"), 0u);
}

TEST(SequentialJudge, PassesOnlyWhenTheLatencyTooIsShownWithin) {
  JudgeOptions o;
  o.latency = LatencyTolerance{0.2, 0};
  SequentialJudge judge(o);
  for (int look = 0; look < 50; ++look) judge.Look({20, 0}, {80, 0}, nullptr, nullptr);
  EXPECT_EQ(judge.errorRate().verdict(), JudgeVerdict::kWithin);
  EXPECT_EQ(judge.verdict(), JudgeVerdict::kUndecided);  // no histograms yet
  // 2,000 canary requests bound its p99 from above (1,000 would not: 0.99^1000 is too likely).
  LatencyHistogram canary = At(10, 2000), stable = At(10, 8000);
  EXPECT_EQ(judge.Look({0, 0}, {0, 0}, &canary, &stable), JudgeVerdict::kWithin);
}

TEST(ForecastPass, SaysRequestsAndTimeAtTheTrafficSeenAndWarnsBeyondTheLimit) {
  JudgeOptions o;
  Forecast f = ForecastPass(o, 0.0, 0.2, 1000, {}, Millis(60'000));
  EXPECT_EQ(f.canaryRequests, 460u);
  EXPECT_DOUBLE_EQ(f.seconds, 2.3);
  EXPECT_FALSE(f.beyondLimit);
  EXPECT_EQ(f.text,
            "a canary as good as stable should pass after about 460 canary requests, 2.3 s at "
            "the 200 canary requests/s seen");
  Forecast slow = ForecastPass(o, 0.05, 0.2, 100, {}, Millis(60'000));
  EXPECT_TRUE(slow.beyondLimit);
  EXPECT_THAT(slow.text, HasSubstr("beyond the analysis' limit of 1m"));
  Forecast idle = ForecastPass(o, 0.0, 0.2, 0, {}, Millis(60'000));
  EXPECT_EQ(idle.seconds, -1);
  EXPECT_THAT(idle.text, HasSubstr("no traffic seen yet"));
}

}  // namespace
}  // namespace lastgood
