#include "engine/analysis_prometheus.h"

#include <gtest/gtest.h>

#include <map>

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;

PrometheusAnalysis Config() {
  PrometheusAnalysis p;
  p.address = "http://127.0.0.1:9";
  p.queries.push_back({"error-rate", "errors{version=\"{{canary}}\",app=\"{{app}}\"}", {}, 0.01});
  p.queries.push_back({"rps", "rps{slot=\"{{slot}}\",before=\"{{stable}}\"}", 1, {}});
  return p;
}

const QueryPlaceholders kValues{"3", "2", "web", "production"};

PrometheusAnswer One(double v) {
  PrometheusAnswer a;
  a.samples.push_back({"", v});
  return a;
}

// A Prometheus that answers each expanded query from `answers` (missing: no series) and counts
// the questions.
struct FakePrometheus {
  std::map<std::string, Result<PrometheusAnswer>> answers;
  int asked = 0;
  PrometheusAsk Ask() {
    return [this](const std::string& q) -> Result<PrometheusAnswer> {
      ++asked;
      auto it = answers.find(q);
      return it == answers.end() ? Result<PrometheusAnswer>(PrometheusAnswer()) : it->second;
    };
  }
};

const std::string kErrors = "errors{version=\"3\",app=\"web\"}";
const std::string kRps = "rps{slot=\"production\",before=\"2\"}";

TEST(PrometheusWatch, PassesWhenEveryQueryIsWithinItsLimitsAndQuotesTheQueries) {
  FakePrometheus p;
  p.answers.emplace(kErrors, One(0.002));
  p.answers.emplace(kRps, One(40));
  PrometheusWatch watch(Config(), kValues, p.Ask());
  PrometheusVerdict v = watch.Look(SteadyClock::now());
  EXPECT_EQ(v.kind, PrometheusVerdict::Kind::kPass) << v.detail;
  EXPECT_NE(v.detail.find("error-rate = 0.002 (max 0.01) [" + kErrors + "]"), std::string::npos)
      << v.detail;
  EXPECT_NE(v.detail.find("rps = 40 (min 1)"), std::string::npos) << v.detail;
}

TEST(PrometheusWatch, FailsWhenOneQueryBreaksItsLimitButNotFinally) {
  FakePrometheus p;
  p.answers.emplace(kErrors, One(0.1));
  p.answers.emplace(kRps, One(40));
  PrometheusWatch watch(Config(), kValues, p.Ask());
  PrometheusVerdict v = watch.Look(SteadyClock::now());
  EXPECT_EQ(v.kind, PrometheusVerdict::Kind::kFail);
  EXPECT_FALSE(v.final);
  EXPECT_NE(v.detail.find("error-rate = 0.1 > max 0.01 [" + kErrors + "]"), std::string::npos)
      << v.detail;
}

TEST(PrometheusWatch, WaitsWhileAQueryHasNoDataAndAsksAtMostOnceASecond) {
  FakePrometheus p;
  p.answers.emplace(kRps, One(40));
  PrometheusWatch watch(Config(), kValues, p.Ask());
  auto t = SteadyClock::now();
  PrometheusVerdict v = watch.Look(t);
  EXPECT_EQ(v.kind, PrometheusVerdict::Kind::kWait);
  EXPECT_NE(v.detail.find("error-rate: no data yet"), std::string::npos) << v.detail;
  EXPECT_EQ(p.asked, 2);
  watch.Look(t + std::chrono::milliseconds(500));
  EXPECT_EQ(p.asked, 2);
  p.answers.emplace(kErrors, One(0));
  EXPECT_EQ(watch.Look(t + kPrometheusLook).kind, PrometheusVerdict::Kind::kPass);
  EXPECT_EQ(p.asked, 4);
}

TEST(PrometheusWatch, AfterResetAnOldFailureIsForgottenUntilAskedAgain) {
  FakePrometheus p;
  p.answers.emplace(kErrors, One(0.1));
  p.answers.emplace(kRps, One(40));
  PrometheusWatch watch(Config(), kValues, p.Ask());
  auto t = SteadyClock::now();
  EXPECT_EQ(watch.Look(t).kind, PrometheusVerdict::Kind::kFail);
  watch.Reset();
  p.answers.at(kErrors) = One(0.001);
  EXPECT_EQ(watch.Look(t + std::chrono::milliseconds(100)).kind, PrometheusVerdict::Kind::kPass);
}

TEST(PrometheusWatch, AnUnreachableServerNeverPassesAndFailsFinallyWithTheReason) {
  FakePrometheus p;
  p.answers.emplace(kErrors, Error::Unavailable("connecting: Connection refused"));
  p.answers.emplace(kRps, Error::Unavailable("connecting: Connection refused"));
  PrometheusWatch watch(Config(), kValues, p.Ask());
  auto t = SteadyClock::now();
  for (int i = 0; i < kPrometheusUnreachableTries - 1; ++i) {
    PrometheusVerdict v = watch.Look(t + i * kPrometheusLook);
    EXPECT_EQ(v.kind, PrometheusVerdict::Kind::kWait) << v.detail;
    EXPECT_NE(v.detail.find("Connection refused"), std::string::npos) << v.detail;
  }
  PrometheusVerdict v = watch.Look(t + kPrometheusUnreachableTries * kPrometheusLook);
  EXPECT_EQ(v.kind, PrometheusVerdict::Kind::kFail);
  EXPECT_TRUE(v.final);
  EXPECT_NE(v.detail.find("prometheus at http://127.0.0.1:9 cannot be asked"), std::string::npos)
      << v.detail;
  EXPECT_NE(v.detail.find("Connection refused"), std::string::npos) << v.detail;
}

TEST(PrometheusWatch, OneAnswerAfterAnOutageStartsTheCountAgain) {
  FakePrometheus p;
  p.answers.emplace(kErrors, Error::Unavailable("no answer in time"));
  p.answers.emplace(kRps, One(40));
  PrometheusWatch watch(Config(), kValues, p.Ask());
  auto t = SteadyClock::now();
  watch.Look(t);
  watch.Look(t + kPrometheusLook);
  p.answers.at(kErrors) = One(0);
  EXPECT_EQ(watch.Look(t + 2 * kPrometheusLook).kind, PrometheusVerdict::Kind::kPass);
  p.answers.at(kErrors) = Error::Unavailable("no answer in time");
  EXPECT_FALSE(watch.Look(t + 3 * kPrometheusLook).final);
}

TEST(PrometheusWatch, AQueryTheServerRefusesFailsAtOnce) {
  FakePrometheus p;
  p.answers.emplace(kErrors, Error::InvalidInput("Prometheus refused the query (HTTP 400): parse "
                                                 "error"));
  PrometheusWatch watch(Config(), kValues, p.Ask());
  PrometheusVerdict v = watch.Look(SteadyClock::now());
  EXPECT_EQ(v.kind, PrometheusVerdict::Kind::kFail);
  EXPECT_TRUE(v.final);
  EXPECT_NE(v.detail.find("error-rate: Prometheus refused the query"), std::string::npos)
      << v.detail;
}

TEST(PrometheusWatch, AnAddressItCannotUseFailsAtOnceWithoutAsking) {
  PrometheusAnalysis config = Config();
  config.address = "gopher://x";
  PrometheusWatch watch(config, kValues);
  PrometheusVerdict v = watch.Look(SteadyClock::now());
  EXPECT_TRUE(v.final);
  EXPECT_NE(v.detail.find("expected http://"), std::string::npos) << v.detail;
}

}  // namespace
}  // namespace lastgood
