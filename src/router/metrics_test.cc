#include "router/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace lastgood {
namespace {

// The sample line of `name{labels}` in `text`, or "" without one.
std::string LineOf(const std::string& text, const std::string& start) {
  size_t at = text.find("\n" + start);
  if (at == std::string::npos) return "";
  size_t end = text.find('\n', at + 1);
  return text.substr(at + 1, end - at - 1);
}

constexpr char kWeb[] = "app=\"web\",slot=\"production\",version=\"3\",backend=\"web-3-a\"";

TEST(RouterMetrics, LatencyIsAHistogramInSharedBucketsWithAnExactSum) {
  StatsRegistry stats(2);
  auto series = stats.Series({"web", "production", 3, "web-3-a"});
  const int64_t now = StatsSecond();
  // 119 µs and 250 µs on one worker thread, 2 s on another (its own cell).
  series->cells[0]->Record(now, {.status = 200, .latency_micros = 119});
  series->cells[0]->Record(now, {.status = 200, .latency_micros = 250});
  series->cells[1]->Record(now, {.status = 503, .latency_micros = 2'000'000});
  std::string text = PrometheusText(stats, {.table_generation = 7, .listeners = {}});

  EXPECT_NE(text.find("# TYPE lastgood_router_latency_seconds histogram\n"), std::string::npos);
  const std::string bucket = std::string("lastgood_router_latency_seconds_bucket{") + kWeb;
  EXPECT_EQ(LineOf(text, bucket + ",le=\"0.0001\"}"), bucket + ",le=\"0.0001\"} 0");
  EXPECT_EQ(LineOf(text, bucket + ",le=\"0.00025\"}"), bucket + ",le=\"0.00025\"} 2")
      << "a bound is inclusive";
  EXPECT_EQ(LineOf(text, bucket + ",le=\"1\"}"), bucket + ",le=\"1\"} 2");
  EXPECT_EQ(LineOf(text, bucket + ",le=\"2.5\"}"), bucket + ",le=\"2.5\"} 3");
  EXPECT_EQ(LineOf(text, bucket + ",le=\"+Inf\"}"), bucket + ",le=\"+Inf\"} 3");
  const std::string sum = std::string("lastgood_router_latency_seconds_sum{") + kWeb + "}";
  EXPECT_EQ(LineOf(text, sum), sum + " 2.000369") << "the shortest exact form";
  const std::string count = std::string("lastgood_router_latency_seconds_count{") + kWeb + "}";
  EXPECT_EQ(LineOf(text, count), count + " 3");
  const std::string errors =
      std::string("lastgood_router_responses_total{") + kWeb + ",class=\"5xx\"}";
  EXPECT_EQ(LineOf(text, errors), errors + " 1");
  EXPECT_EQ(LineOf(text, "lastgood_router_table_generation"), "lastgood_router_table_generation 7");
  EXPECT_EQ(text.find("quantile"), std::string::npos) << "no summary any more";
}

TEST(RouterMetrics, NoQuantileOfAWindowIsAboveItsMaximum) {
  // 100 requests of 1001 µs: the bucket holding them stands for a value above 1001 µs.
  SeriesCell cell;
  for (int i = 0; i < 100; ++i) cell.Record(50, {.status = 200, .latency_micros = 1001});
  StatsSnapshot window;
  cell.AddWindow(50, 10, &window);
  EXPECT_LE(window.QuantileMillis(0.99), 1.001);
  EXPECT_LE(window.QuantileMillis(0.5), 1.001);
  EXPECT_GT(window.QuantileMillis(0.5), 0.98);
}

TEST(RouterMetrics, EveryLatencyFallsInTheFirstBucketWhoseBoundHoldsIt) {
  EXPECT_EQ(ExposedLatencyBucket(0), 0);
  EXPECT_EQ(ExposedLatencyBucket(100), 0);
  EXPECT_EQ(ExposedLatencyBucket(101), 1);
  EXPECT_EQ(ExposedLatencyBucket(60'000'000), kExposedLatencyBuckets - 2);
  EXPECT_EQ(ExposedLatencyBucket(60'000'001), kExposedLatencyBuckets - 1);
}

}  // namespace
}  // namespace lastgood
