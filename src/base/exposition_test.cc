#include "base/exposition.h"

#include <gtest/gtest.h>

#include <vector>

namespace lastgood {
namespace {

TEST(MetricNumber, IsTheShortestTextThatReadsBackExactly) {
  EXPECT_EQ(MetricNumber(0.000119), "0.000119");
  EXPECT_EQ(MetricNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(MetricNumber(3), "3");
  EXPECT_EQ(MetricNumber(0.0001), "0.0001");
  EXPECT_EQ(MetricNumber(1e-7), "0.0000001");
  EXPECT_EQ(MetricNumber(60), "60");
  EXPECT_EQ(MetricNumber(123456789012), "123456789012");
  EXPECT_EQ(MetricNumber(1e21), "1e+21");
  EXPECT_EQ(MetricNumber(1.5e-300), "1.5e-300");
  EXPECT_EQ(MetricNumber(1.0 / 0.0), "+Inf");
  EXPECT_EQ(MetricNumber(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(MetricNumber(0.0 / 0.0), "NaN");
}

TEST(EscapeLabelValue, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(Exposition, WritesEachFamilyWithItsSamplesTogetherInTheOrderAdded) {
  Exposition e;
  auto& requests = e.Add("x_requests_total", Exposition::Type::kCounter, "Requests.");
  auto& up = e.Add("x_up", Exposition::Type::kGauge, "Whether it is up.\nSecond line \\.");
  requests.Sample({{"app", "web"}}, 3);
  up.Sample({}, 1);
  requests.Sample({{"app", "api"}, {"slot", "a\"b"}}, 4);
  EXPECT_EQ(e.Text(),
            "# HELP x_requests_total Requests.\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{app=\"web\"} 3\n"
            "x_requests_total{app=\"api\",slot=\"a\\\"b\"} 4\n"
            "# HELP x_up Whether it is up.\\nSecond line \\\\.\n"
            "# TYPE x_up gauge\n"
            "x_up 1\n");
}

TEST(Exposition, WritesAHistogramAsCumulativeBucketsSumAndCount) {
  Exposition e;
  auto& h = e.Add("x_seconds", Exposition::Type::kHistogram, "Latency.");
  std::vector<double> bounds = {0.001, 0.5};
  std::vector<uint64_t> counts = {2, 0, 1};  // two under 1 ms, one above 0.5 s
  h.Histogram({{"app", "web"}}, bounds, counts, 0.700119);
  EXPECT_EQ(e.Text(),
            "# HELP x_seconds Latency.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{app=\"web\",le=\"0.001\"} 2\n"
            "x_seconds_bucket{app=\"web\",le=\"0.5\"} 2\n"
            "x_seconds_bucket{app=\"web\",le=\"+Inf\"} 3\n"
            "x_seconds_sum{app=\"web\"} 0.700119\n"
            "x_seconds_count{app=\"web\"} 3\n");
}

TEST(Exposition, WritesAHistogramWithoutLabels) {
  Exposition e;
  std::vector<double> bounds = {1};
  std::vector<uint64_t> counts = {0, 0};
  e.Add("y_seconds", Exposition::Type::kHistogram, "Y.").Histogram({}, bounds, counts, 0);
  EXPECT_NE(e.Text().find("y_seconds_bucket{le=\"1\"} 0\ny_seconds_bucket{le=\"+Inf\"} 0\n"
                          "y_seconds_sum 0\ny_seconds_count 0\n"),
            std::string::npos)
      << e.Text();
}

}  // namespace
}  // namespace lastgood
