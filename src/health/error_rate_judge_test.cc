#include "health/error_rate_judge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace lastgood {
namespace {

constexpr double kTolerance = 0.02;
constexpr double kAlpha = 0.001;

// A fixed stream: each look brings 20 canary and 80 stable requests (a 20% share), with the
// errors spread as evenly as the rates allow (the n-th request of a version fails when
// floor(n * rate) moves). Returns the canary requests at the verdict (0: none in `looks`).
struct Outcome {
  JudgeVerdict verdict = JudgeVerdict::kUndecided;
  uint64_t canaryRequests = 0;
};
Outcome RunFixedStream(double canary_rate, double stable_rate, int looks = 3000) {
  ErrorRateTest test(kTolerance, kAlpha);
  auto errors = [](double rate, uint64_t before, uint64_t n) {
    return uint64_t(std::floor(rate * double(before + n) + 1e-9)) -
           uint64_t(std::floor(rate * double(before) + 1e-9));
  };
  for (int i = 0; i < looks && test.verdict() == JudgeVerdict::kUndecided; ++i) {
    uint64_t c = test.canary().requests, s = test.stable().requests;
    test.Add({20, errors(canary_rate, c, 20)}, {80, errors(stable_rate, s, 80)});
  }
  return {test.verdict(), test.canary().requests};
}

TEST(ErrorRateTest, DecidesNothingBeforeBothVersionsHaveRequests) {
  ErrorRateTest test(kTolerance, kAlpha);
  test.Add({0, 0}, {0, 0});
  test.Add({500, 100}, {0, 0});
  EXPECT_EQ(test.verdict(), JudgeVerdict::kUndecided);
  EXPECT_EQ(test.evidenceWorse(), 1.0);
}

TEST(ErrorRateTest, CatchesACanaryFailingTenPercentBesideOnePercentAfter200Requests) {
  Outcome o = RunFixedStream(0.10, 0.01);
  EXPECT_EQ(o.verdict, JudgeVerdict::kWorse);
  EXPECT_EQ(o.canaryRequests, 200u);
}

TEST(ErrorRateTest, CatchesACanaryFailingEveryRequestBesideAGoodStableAfter40Requests) {
  Outcome o = RunFixedStream(1.0, 0.0);
  EXPECT_EQ(o.verdict, JudgeVerdict::kWorse);
  EXPECT_EQ(o.canaryRequests, 40u);
}

TEST(ErrorRateTest, PassesAFlawlessCanaryBesideAFlawlessStableAfter460Requests) {
  Outcome o = RunFixedStream(0.0, 0.0);
  EXPECT_EQ(o.verdict, JudgeVerdict::kWithin);
  EXPECT_EQ(o.canaryRequests, 460u);
}

TEST(ErrorRateTest, PassesACanaryAsGoodAsAStableFailingTwoPercentAfter1440Requests) {
  Outcome o = RunFixedStream(0.02, 0.02);
  EXPECT_EQ(o.verdict, JudgeVerdict::kWithin);
  EXPECT_EQ(o.canaryRequests, 1440u);
}

TEST(ErrorRateTest, NeverFailsACanaryWorseOnlyByTheToleranceOnAFixedStream) {
  Outcome o = RunFixedStream(0.03, 0.01, 10'000);
  EXPECT_NE(o.verdict, JudgeVerdict::kWorse);
}

TEST(ErrorRateTest, OneLookMultipliesTheEvidenceByItsLikelihoodRatioAgainstTheBestNullPoint) {
  ErrorRateTest test(kTolerance, kAlpha);
  test.Add({20, 1}, {80, 1});  // the first look bets a = b = 1/2: evidence for "within"
  test.Add({20, 4}, {80, 0});  // now a = 1.5/21, b = 1.5/81: a - b > t, a bet on "worse"
  const double a = 1.5 / 21, b = 1.5 / 81, t = kTolerance;
  // The null point found another way: a ternary search of the concave fit.
  auto fit = [&](double p) {
    return a * 20 * std::log(p + t) + (1 - a) * 20 * std::log(1 - p - t) + b * 80 * std::log(p) +
           (1 - b) * 80 * std::log(1 - p);
  };
  double lo = 0, hi = 1 - t;
  for (int i = 0; i < 200; ++i) {
    double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
    (fit(m1) < fit(m2) ? lo : hi) = fit(m1) < fit(m2) ? m1 : m2;
  }
  double best = (lo + hi) / 2, q = best + t;
  double ratio =
      std::pow(a / q, 4) * std::pow((1 - a) / (1 - q), 16) * std::pow((1 - b) / (1 - best), 80);
  EXPECT_NEAR(test.evidenceWorse(), ratio, ratio * 1e-5);
}

TEST(ErrorRateTest, FailsACanaryWithinTheToleranceAtMostAtTheFalseAlarmRate) {
  // At the edge of the tolerance (3% beside 1%), where a false alarm is likeliest, with a
  // false-alarm rate of 5% so that 2,000 seeded trials can see it.
  std::mt19937_64 rng(16);
  std::binomial_distribution<uint64_t> canary(20, 0.03), stable(80, 0.01);
  int worse = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    ErrorRateTest test(kTolerance, 0.05);
    for (int look = 0; look < 300 && test.verdict() == JudgeVerdict::kUndecided; ++look)
      test.Add({20, canary(rng)}, {80, stable(rng)});
    worse += test.verdict() == JudgeVerdict::kWorse;
  }
  EXPECT_LE(worse, 100);  // 5% of 2,000
}

TEST(ErrorRateTest, ExpectedRequestsToPassAgreeWithTheFixedStreamAndGrowWithStablesErrors) {
  EXPECT_EQ(ExpectedRequestsToPass(0.0, 0.2, kTolerance, kAlpha), 460u);
  uint64_t at1 = ExpectedRequestsToPass(0.01, 0.2, kTolerance, kAlpha);
  uint64_t at5 = ExpectedRequestsToPass(0.05, 0.2, kTolerance, kAlpha);
  EXPECT_GT(at1, 460u);
  EXPECT_GT(at5, at1);
  EXPECT_EQ(ExpectedRequestsToPass(0.05, 0.2, 1e-6, kAlpha), 0u);  // a tolerance no data meets
}

}  // namespace
}  // namespace lastgood
