#include "ui/traffic_series.h"

#include <gtest/gtest.h>

namespace lastgood::ui {
namespace {

using nlohmann::json;

json Traffic(int version, double rate, double error_rate, double p99) {
  return {{"app", "web"},
          {"versions",
           {{{"slot", "production"},
             {"version", version},
             {"requests", 10},
             {"ratePerSecond", rate},
             {"errorRate", error_rate},
             {"latencyMs", {{"p50", 1}, {"p99", p99}}}}}}};
}

TEST(TrafficSeries, KeepsEachSampleReducedToWhatTheChartsDraw) {
  TrafficSeries series;
  series.Add("web", 1'000, Traffic(2, 12.5, 0.25, 40));
  json latest = series.Latest("web");
  ASSERT_TRUE(latest.is_object());
  EXPECT_EQ(latest["t"], 1'000);
  const json& row = latest["versions"][0];
  EXPECT_EQ(row["version"], 2);
  EXPECT_EQ(row["slot"], "production");
  EXPECT_DOUBLE_EQ(row["rate"].get<double>(), 12.5);
  EXPECT_DOUBLE_EQ(row["errorRate"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(row["p99Ms"].get<double>(), 40);
  EXPECT_TRUE(series.Latest("other").is_null());
}

TEST(TrafficSeries, AnswersOnlyTheAskedLastSecondsOldestFirst) {
  TrafficSeries series;
  for (int s = 0; s < 100; ++s) series.Add("web", s * 1000, Traffic(1, s, 0, 1));
  json out = series.Since("web", 10, 99'000);
  ASSERT_EQ(out["samples"].size(), 11u);  // 89 s … 99 s
  EXPECT_EQ(out["samples"][0]["t"], 89'000);
  EXPECT_EQ(out["samples"][10]["t"], 99'000);
}

TEST(TrafficSeries, ForgetsWhatIsOlderThanTenMinutes) {
  TrafficSeries series;
  for (int s = 0; s < kSeriesSeconds + 50; ++s) series.Add("web", s * 1000, Traffic(1, 1, 0, 1));
  json out = series.Since("web", kSeriesSeconds, (kSeriesSeconds + 49) * 1000);
  EXPECT_EQ(out["samples"].size(), static_cast<size_t>(kSeriesSeconds));
  EXPECT_EQ(out["samples"][0]["t"], 50'000);
}

}  // namespace
}  // namespace lastgood::ui
