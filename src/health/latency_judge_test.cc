#include "health/latency_judge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace lastgood {
namespace {

constexpr double kLatencyAlpha = 0.001;

// Latencies spread evenly over [from, to) ms in 1 ms bins, `n` of them.
LatencyHistogram Even(double from, double to, uint64_t n) {
  LatencyHistogram h;
  int bins = int(to - from);
  for (int i = 0; i < bins; ++i) {
    uint64_t count = n * uint64_t(i + 1) / uint64_t(bins) - n * uint64_t(i) / uint64_t(bins);
    h.push_back({from + i, from + i + 1, count});
  }
  return h;
}

TEST(QuantileConfidence, KnowsNothingOfAnEmptyHistogramAndNoUpperBoundAfterAFewRequests) {
  QuantileBounds none = QuantileConfidence({}, 0.99, kLatencyAlpha);
  EXPECT_EQ(none.lowerMs, 0);
  EXPECT_TRUE(std::isinf(none.upperMs));
  // 50 requests: p99 is above most of them (at least 45 with 99.9% confidence), but nothing
  // says how far above the slowest it may be.
  QuantileBounds few = QuantileConfidence(Even(10, 20, 50), 0.99, kLatencyAlpha);
  EXPECT_EQ(few.lowerMs, 18);
  EXPECT_TRUE(std::isinf(few.upperMs));
}

TEST(QuantileConfidence, ReadsTheBoundsAtTheEdgesOfTheBinsTheRanksFallIn) {
  // 10,000 latencies, 1,000 in each 1 ms bin of 10..20 ms: p99 is in the 19..20 ms bin.
  QuantileBounds b = QuantileConfidence(Even(10, 20, 10'000), 0.99, kLatencyAlpha);
  EXPECT_EQ(b.observedMs, 19.5);
  EXPECT_EQ(b.lowerMs, 19);
  EXPECT_EQ(b.upperMs, 20);
  EXPECT_EQ(b.requests, 10'000u);
}

TEST(QuantileConfidence, HoldsTheTrueP99OfAUniformStreamAtEveryLookWithItsConfidence) {
  // Uniform latencies on 0..100 ms in 0.1 ms bins: the true p99 is 99 ms. With alpha = 5%,
  // 400 seeded streams of 30 looks of 200 requests each miss it in at most 5% of the streams.
  std::mt19937_64 rng(16);
  std::uniform_int_distribution<int> bin(0, 999);
  int missed = 0;
  for (int stream = 0; stream < 400; ++stream) {
    LatencyHistogram h;
    for (int i = 0; i < 1000; ++i) h.push_back({i / 10.0, (i + 1) / 10.0, 0});
    bool miss = false;
    for (int look = 0; look < 30 && !miss; ++look) {
      for (int r = 0; r < 200; ++r) ++h[size_t(bin(rng))].count;
      QuantileBounds b = QuantileConfidence(h, 0.99, 0.05);
      miss = b.lowerMs > 99 || b.upperMs < 99;
    }
    missed += miss;
  }
  EXPECT_LE(missed, 20);
}

TEST(JudgeLatency, FailsACanaryFiftyMsSlowerOnceStablesP99IsBoundedAfter1000StableRequests) {
  // Stable 10..20 ms, canary 60..70 ms, a 20% tolerance; one canary request per four stable.
  uint64_t stable_needed = 0;
  for (uint64_t s = 100; s <= 20'000 && !stable_needed; s += 100) {
    LatencyEvidence e =
        JudgeLatency(Even(60, 70, s / 4), Even(10, 20, s), 0.99, {0.2, 0}, kLatencyAlpha);
    if (e.verdict == JudgeVerdict::kWorse) stable_needed = s;
    EXPECT_NE(e.verdict, JudgeVerdict::kWithin);
  }
  EXPECT_EQ(stable_needed, 1000u);
}

TEST(JudgeLatency, PassesACanaryAsFastAsStableAfter1000RequestsAndNeverFailsIt) {
  uint64_t canary_needed = 0;
  for (uint64_t c = 100; c <= 20'000 && !canary_needed; c += 100) {
    LatencyEvidence e =
        JudgeLatency(Even(10, 20, c), Even(10, 20, 4 * c), 0.99, {0.2, 0}, kLatencyAlpha);
    EXPECT_NE(e.verdict, JudgeVerdict::kWorse);
    if (e.verdict == JudgeVerdict::kWithin) canary_needed = c;
  }
  EXPECT_EQ(canary_needed, 1000u);
}

TEST(JudgeLatency, AnAddedToleranceInMillisecondsLetsASlightlySlowerCanaryPass) {
  // p99: stable's in its 19..20 ms bin, the canary's in 22..23 ms.
  LatencyHistogram stable = Even(10, 20, 40'000), canary = Even(13, 23, 10'000);
  EXPECT_EQ(JudgeLatency(canary, stable, 0.99, {0, 1}, kLatencyAlpha).verdict,
            JudgeVerdict::kWorse);
  EXPECT_EQ(JudgeLatency(canary, stable, 0.99, {0, 5}, kLatencyAlpha).verdict,
            JudgeVerdict::kWithin);
}

TEST(JudgeLatency, ExpectedRequestsToPassLatencyIsWhereScaledHistogramsStartToPass) {
  uint64_t n =
      ExpectedRequestsToPassLatency(Even(10, 20, 1000), 0.2, 0.99, {0.2, 0}, kLatencyAlpha);
  auto judge = [](uint64_t c) {
    return JudgeLatency(Even(10, 20, c), Even(10, 20, 4 * c), 0.99, {0.2, 0}, kLatencyAlpha)
        .verdict;
  };
  EXPECT_EQ(judge(n), JudgeVerdict::kWithin);
  EXPECT_EQ(judge(n * 9 / 10), JudgeVerdict::kUndecided);
  EXPECT_EQ(ExpectedRequestsToPassLatency({}, 0.2, 0.99, {0.2, 0}, kLatencyAlpha), 0u);
}

}  // namespace
}  // namespace lastgood
