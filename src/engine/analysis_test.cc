#include "engine/analysis.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

Measured M(uint64_t requests, uint64_t errors, double p99 = 5) {
  Measured m;
  m.requests = requests;
  m.errors = errors;
  m.p99ms = p99;
  return m;
}

Analysis Limits() {
  Analysis a;
  a.minRequests = 100;
  a.maxErrorRate = 0.01;
  return a;
}

TEST(Analysis, TooLittleDataIsNeverAPassEvenWhenTheWindowHasEnded) {
  auto j = Judge(Limits(), M(99, 0), M(1000, 0), true);
  EXPECT_EQ(j.kind, Judgement::Kind::kWait);
  EXPECT_NE(j.detail.find("waiting for 100"), std::string::npos);
}

TEST(Analysis, FailsAsSoonAsTheMinimumIsServedAndALimitIsBroken) {
  auto j = Judge(Limits(), M(100, 10), M(1000, 0), /*window_ended=*/false);
  EXPECT_EQ(j.kind, Judgement::Kind::kFail);
  EXPECT_NE(j.detail.find("error rate 10.00% > maxErrorRate 1.00%"), std::string::npos) << j.detail;
  EXPECT_NE(j.detail.find("100 requests, 10 errors"), std::string::npos) << j.detail;
}

TEST(Analysis, PassesOnlyOnceTheWholeWindowHasPassed) {
  EXPECT_EQ(Judge(Limits(), M(500, 1), M(1000, 0), false).kind, Judgement::Kind::kWait);
  EXPECT_EQ(Judge(Limits(), M(500, 1), M(1000, 0), true).kind, Judgement::Kind::kPass);
}

TEST(Analysis, LatencyAndIncreaseOverStableAreJudgedToo) {
  Analysis a = Limits();
  a.maxLatencyP99 = Millis(100);
  EXPECT_EQ(Judge(a, M(200, 0, 250), M(1000, 0), false).kind, Judgement::Kind::kFail);
  Analysis relative;
  relative.minRequests = 10;
  relative.maxErrorRateIncrease = 0.02;
  // 5% against a stable 4%: within 2 points, and no absolute limit was asked for.
  EXPECT_EQ(Judge(relative, M(100, 5), M(100, 4), true).kind, Judgement::Kind::kPass);
  EXPECT_EQ(Judge(relative, M(100, 7), M(100, 4), true).kind, Judgement::Kind::kFail);
}

TEST(Analysis, WithNoLimitGivenTheErrorRateLimitIsOnePercent) {
  Analysis a;
  a.minRequests = 10;
  EXPECT_EQ(Judge(a, M(100, 2), M(100, 0), false).kind, Judgement::Kind::kFail);
  EXPECT_EQ(Judge(a, M(100, 1), M(100, 0), true).kind, Judgement::Kind::kPass);
}

TEST(Analysis, MeasureSumsAggregateRowsOfTheVersionOrOfTheOthers) {
  RouterStats stats;
  StatsRow canary{"web", "production", 4, "", 100, 90, 0, 0, 10, 0, 0, 1, 2, 7, 9};
  StatsRow backend = canary;
  backend.backend = "web-1";  // per-backend rows are not counted twice
  StatsRow stable{"web", "production", 3, "", 900, 900, 0, 0, 0, 0, 1, 1, 2, 3, 4};
  StatsRow other_app{"api", "production", 3, "", 50, 0, 0, 0, 50, 0, 0, 1, 1, 1, 1};
  stats.rows = {canary, backend, stable, other_app};
  Measured c = Measure(stats, "web", "production", 4, false);
  EXPECT_EQ(c.requests, 100u);
  EXPECT_EQ(c.errors, 10u);
  EXPECT_EQ(c.p99ms, 7);
  Measured s = Measure(stats, "web", "production", 4, true);
  EXPECT_EQ(s.requests, 900u);
  EXPECT_EQ(s.errors, 1u);
}

TEST(Analysis, MeasureLeavesOutRequestsWhoseClientPinnedTheSlot) {
  RouterStats stats;
  StatsRow split{"web", "staging", 2, "", 100, 90, 0, 0, 10, 0, 0, 1, 2, 7, 9};
  StatsRow pinned{"web", "staging", 2, "", 5000, 5000, 0, 0, 0, 0, 0, 1, 1, 1, 1};
  pinned.pinned = true;  // an outsider flooding the preview slot with good requests
  stats.rows = {split, pinned};
  Measured m = Measure(stats, "web", "staging", 2, false);
  EXPECT_EQ(m.requests, 100u);
  EXPECT_EQ(m.errors, 10u);
}

}  // namespace
}  // namespace lastgood
