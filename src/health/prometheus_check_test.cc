#include "health/prometheus_check.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lastgood {
namespace {

const QueryPlaceholders kValues{"3", "2", "web", "production"};

TEST(ExpandQuery, FillsInEveryPlaceholderAndLeavesTheRestAlone) {
  EXPECT_EQ(ExpandQuery("rate(x{app=\"{{app}}\",version=\"{{canary}}\",slot=\"{{slot}}\"}[30s]) / "
                        "rate(x{version=\"{{stable}}\"}[30s])",
                        kValues),
            "rate(x{app=\"web\",version=\"3\",slot=\"production\"}[30s]) / "
            "rate(x{version=\"2\"}[30s])");
  EXPECT_EQ(ExpandQuery("up{job=\"a\"} {{other}} {{canary", kValues),
            "up{job=\"a\"} {{other}} {{canary");
  EXPECT_EQ(ExpandQuery("", kValues), "");
}

PrometheusAnswer Values(std::initializer_list<std::pair<std::string, double>> values) {
  PrometheusAnswer a;
  for (const auto& [labels, v] : values) a.samples.push_back({labels, v});
  return a;
}

TEST(JudgeQuery, FailsAValueAboveItsMaxAndSaysBy) {
  QueryVerdict v = JudgeQuery("error-rate", {std::nullopt, 0.01}, Values({{"", 0.0931}}));
  EXPECT_EQ(v.kind, QueryVerdict::Kind::kFail);
  EXPECT_EQ(v.detail, "error-rate = 0.0931 > max 0.01");
}

TEST(JudgeQuery, FailsAValueBelowItsMin) {
  QueryVerdict v = JudgeQuery("throughput", {5, std::nullopt}, Values({{"", 2}}));
  EXPECT_EQ(v.kind, QueryVerdict::Kind::kFail);
  EXPECT_EQ(v.detail, "throughput = 2 < min 5");
}

TEST(JudgeQuery, PassesAValueWithinItsLimitsAndNamesThem) {
  QueryVerdict v = JudgeQuery("error-rate", {0, 0.01}, Values({{"", 0.002}}));
  EXPECT_EQ(v.kind, QueryVerdict::Kind::kPass);
  EXPECT_EQ(v.detail, "error-rate = 0.002 (min 0, max 0.01)");
  EXPECT_EQ(JudgeQuery("e", {std::nullopt, 0.01}, Values({{"", 0.01}})).kind,
            QueryVerdict::Kind::kPass)
      << "a limit itself is within";
}

TEST(JudgeQuery, WaitsWithoutAValue) {
  QueryVerdict none = JudgeQuery("error-rate", {std::nullopt, 0.01}, PrometheusAnswer());
  EXPECT_EQ(none.kind, QueryVerdict::Kind::kWait);
  EXPECT_EQ(none.detail, "error-rate: no data yet (no series matched; max 0.01)");
  QueryVerdict nan = JudgeQuery("error-rate", {std::nullopt, 0.01}, Values({{"", NAN}}));
  EXPECT_EQ(nan.kind, QueryVerdict::Kind::kWait);
  EXPECT_NE(nan.detail.find("the value is NaN"), std::string::npos);
}

TEST(JudgeQuery, HoldsEverySeriesToTheLimitsAndNamesTheOneThatBrokeThem) {
  QueryVerdict v = JudgeQuery(
      "error-rate", {std::nullopt, 0.01},
      Values({{"{backend=\"a\"}", 0.001}, {"{backend=\"b\"}", 0.2}, {"{backend=\"c\"}", NAN}}));
  EXPECT_EQ(v.kind, QueryVerdict::Kind::kFail);
  EXPECT_EQ(v.detail, "error-rate{backend=\"b\"} = 0.2 > max 0.01, the worst of 2 series");
  QueryVerdict ok = JudgeQuery("error-rate", {std::nullopt, 0.01},
                               Values({{"{backend=\"a\"}", 0.001}, {"{backend=\"b\"}", 0.004}}));
  EXPECT_EQ(ok.kind, QueryVerdict::Kind::kPass);
  EXPECT_EQ(ok.detail, "error-rate{backend=\"b\"} = 0.004 (max 0.01), the worst of 2 series");
}

TEST(JudgeQuery, AnInfiniteValueIsBeyondAnyMax) {
  QueryVerdict v = JudgeQuery("ratio", {std::nullopt, 1}, Values({{"", INFINITY}}));
  EXPECT_EQ(v.kind, QueryVerdict::Kind::kFail);
  EXPECT_EQ(v.detail, "ratio = +Inf > max 1");
}

}  // namespace
}  // namespace lastgood
