#include "router/stats_window.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lastgood {
namespace {

TEST(LatencyHistogram, ReportsAnyValueWithinTwoPercent) {
  for (uint64_t v :
       {1ull, 7ull, 63ull, 64ull, 100ull, 999ull, 12'345ull, 1'000'000ull, 59'000'000ull}) {
    double back = LatencyBucketMicros(LatencyBucket(v));
    EXPECT_LE(std::abs(back - static_cast<double>(v)), 0.02 * static_cast<double>(v) + 0.5) << v;
  }
  EXPECT_EQ(LatencyBucket(kLatencyMaxMicros * 4), LatencyBucket(kLatencyMaxMicros));
}

TEST(StatsWindow, ComputesPercentilesFromTheWindowOnly) {
  SeriesCell cell;
  int64_t now = 1000;
  // Old second: one very slow request, outside a 10 s window.
  cell.Record(now - 30, {.status = 500, .latency_micros = 5'000'000});
  for (int i = 1; i <= 100; ++i) {
    cell.Record(now - (i % 5),
                {.status = i <= 98 ? 200 : 503, .latency_micros = uint64_t(i) * 1000});
  }
  StatsSnapshot window;
  cell.AddWindow(now, 10, &window);
  EXPECT_EQ(window.counters.requests, 100u);
  EXPECT_EQ(window.counters.by_class[0], 98u);
  EXPECT_EQ(window.counters.by_class[3], 2u);
  EXPECT_NEAR(window.QuantileMillis(0.5), 50, 1.5);
  EXPECT_NEAR(window.QuantileMillis(0.9), 90, 2);
  EXPECT_NEAR(window.QuantileMillis(0.99), 99, 2);
  EXPECT_EQ(window.counters.max_micros, 100'000u);
  StatsCounters totals;
  cell.AddTotals(&totals);
  EXPECT_EQ(totals.requests, 101u);
}

TEST(StatsWindow, ReusesABucketAfterTheRingWraps) {
  SeriesCell cell;
  cell.Record(5, {.status = 200, .latency_micros = 10});
  cell.Record(5 + kStatsWindowSeconds, {.status = 404, .latency_micros = 20});
  StatsSnapshot window;
  cell.AddWindow(5 + kStatsWindowSeconds, kStatsWindowSeconds, &window);
  EXPECT_EQ(window.counters.requests, 1u);
  EXPECT_EQ(window.counters.by_class[2], 1u);
}

TEST(StatsRegistry, MergesThreadsAndAddsOneAggregateRowPerVersion) {
  StatsRegistry registry(2);
  auto a = registry.Series({"web", "production", 2, "i1"});
  auto b = registry.Series({"web", "production", 2, "i2"});
  EXPECT_EQ(a, registry.Series({"web", "production", 2, "i1"}));
  int64_t now = StatsSecond();
  a->cells[0]->Record(now, {.status = 200, .latency_micros = 1000});
  a->cells[1]->Record(now, {.status = 200, .latency_micros = 1000});
  b->cells[1]->Record(now, {.status = 502, .latency_micros = 3000, .connect_errors = 1});
  b->cells[1]->Record(now, {.counts_request = false, .connect_errors = 1});
  RouterStats stats = registry.Read(std::chrono::seconds(10));
  ASSERT_EQ(stats.rows.size(), 3u);
  EXPECT_EQ(stats.windowMillis, 10'000);
  const StatsRow& aggregate = stats.rows.back();
  EXPECT_EQ(aggregate.backend, "");
  EXPECT_EQ(aggregate.requests, 3u);
  EXPECT_EQ(aggregate.responses2xx, 2u);
  EXPECT_EQ(aggregate.responses5xx, 1u);
  EXPECT_EQ(aggregate.connectErrors, 2u);
  EXPECT_NEAR(aggregate.maxms, 3.0, 0.01);
  EXPECT_EQ(aggregate.totalRequests, 3u);
  EXPECT_EQ(aggregate.totalErrors, 1u);  // the 502; a retried connect error is no answer
  // The window's histogram, sparse: two requests at 1 ms, one at 3 ms.
  ASSERT_EQ(aggregate.latency.size(), 2u);
  EXPECT_EQ(aggregate.latency[0], std::make_pair(LatencyBucket(1000), uint64_t{2}));
  EXPECT_EQ(aggregate.latency[1], std::make_pair(LatencyBucket(3000), uint64_t{1}));
  EXPECT_TRUE(stats.rows[0].latency.empty());  // backend rows carry none
}

// A sequential analysis reads the cumulative counts every 100 ms: they do not leave with the
// window, as the windowed counts do.
TEST(StatsRegistry, ReportsCumulativeTotalsBesideTheWindowsCounts) {
  StatsRegistry registry(1);
  auto series = registry.Series({"web", "production", 1, "i1"});
  int64_t now = StatsSecond();
  series->cells[0]->Record(now - 5, {.status = 500, .latency_micros = 1000});
  series->cells[0]->Record(now, {.status = 200, .latency_micros = 1000});
  RouterStats stats = registry.Read(std::chrono::seconds(1));
  ASSERT_EQ(stats.rows.size(), 2u);
  EXPECT_EQ(stats.rows[0].requests, 1u);
  EXPECT_EQ(stats.rows[0].totalRequests, 2u);
  EXPECT_EQ(stats.rows[0].totalErrors, 1u);
}

// The series of a backend that left the table go once their window is empty; a held series
// or one with records in the window stays (it is still reported), whatever its age.
TEST(StatsRegistry, DropsTheSeriesOfRetiredBackendsOnceTheirWindowIsEmpty) {
  StatsRegistry registry(2);
  int64_t now = 10'000;
  auto held = registry.Series({"web", "production", 1, "held"});
  held->cells[0]->Record(now - 500, {.status = 200, .latency_micros = 1000});
  registry.Series({"web", "production", 1, "retired"})
      ->cells[1]
      ->Record(now - kStatsWindowSeconds, {.status = 200, .latency_micros = 1000});
  registry.Series({"web", "production", 1, "recent"})
      ->cells[1]
      ->Record(now - kStatsWindowSeconds + 1, {.status = 200, .latency_micros = 1000});
  registry.Series({"web", "production", 1, "never-used"});
  ASSERT_EQ(registry.size(), 4u);

  EXPECT_EQ(registry.DropRetired(now), 2u);
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(registry.Series({"web", "production", 1, "held"}), held);
  // The recent one leaves a second later; the held one when its table lets go of it.
  EXPECT_EQ(registry.DropRetired(now + 1), 1u);
  held.reset();
  EXPECT_EQ(registry.DropRetired(now + 1), 1u);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(StatsJson, SurvivesARoundTrip) {
  RouterStats s;
  s.windowMillis = 10'000;
  s.statsSinceMillis = 1'800'000'123'456;
  StatsRow r;
  r.app = "web";
  r.slot = "production";
  r.version = 3;
  r.backend = "i1";
  r.requests = 10;
  r.responses5xx = 1;
  r.p99ms = 12.5;
  r.totalRequests = 1000;
  r.totalErrors = 7;
  r.latency = {{70, 4}, {200, 1}};
  s.rows.push_back(r);
  auto back = StatsFromJson(StatsToJson(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->statsSinceMillis, s.statsSinceMillis);
  ASSERT_EQ(back->rows.size(), 1u);
  EXPECT_EQ(back->rows[0].version, 3);
  EXPECT_EQ(back->rows[0].responses5xx, 1u);
  EXPECT_DOUBLE_EQ(back->rows[0].p99ms, 12.5);
  EXPECT_EQ(back->rows[0].totalRequests, 1000u);
  EXPECT_EQ(back->rows[0].totalErrors, 7u);
  EXPECT_EQ(back->rows[0].latency, r.latency);
}

}  // namespace
}  // namespace lastgood
