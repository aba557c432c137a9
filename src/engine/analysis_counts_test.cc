#include "engine/analysis_counts.h"

#include <gtest/gtest.h>

#include "engine/fleet_stats.h"
#include "router/latency_histogram.h"

namespace lastgood {
namespace {

const AnalysedPair kPair{"web", "production", "production", 3};

StatsRow Backend(const std::string& slot, int version, const std::string& id, uint64_t total,
                 uint64_t errors, uint64_t window = 0, uint64_t window_5xx = 0) {
  StatsRow r;
  r.app = "web", r.slot = slot, r.version = version, r.backend = id;
  r.totalRequests = total, r.totalErrors = errors;
  r.requests = window, r.responses5xx = window_5xx;
  return r;
}

RouterStats Answer(std::vector<StatsRow> rows) {
  RouterStats s;
  s.windowMillis = 1000;
  s.rows = std::move(rows);
  return s;
}

TEST(LookCounter, CountsWhatEachSideServedSinceThePreviousLookFromCumulativeCounters) {
  LookCounter counter(kPair);
  counter.Start(
      Answer({Backend("production", 3, "c1", 100, 10), Backend("production", 2, "s1", 1000, 5),
              Backend("production", 2, "s2", 2000, 7)}));
  RequestCounts canary, stable;
  counter.Next(
      Answer({Backend("production", 3, "c1", 120, 13), Backend("production", 2, "s1", 1040, 5),
              Backend("production", 2, "s2", 2040, 8),
              Backend("staging", 2, "x", 99, 99),        // another slot: not stable
              Backend("production", 3, "", 999, 999)}),  // an aggregate row
      &canary, &stable);
  EXPECT_EQ(canary.requests, 20u);
  EXPECT_EQ(canary.errors, 3u);
  EXPECT_EQ(stable.requests, 80u);
  EXPECT_EQ(stable.errors, 1u);
}

TEST(LookCounter, ABackendIdleAtTheStartCountsOnlyWhatItsWindowHolds) {
  LookCounter counter(kPair);
  counter.Start(Answer({Backend("production", 2, "s1", 1000, 5)}));
  RequestCounts canary, stable;
  // c1 served 500 requests long ago, then 7 in the last second, 2 of them failed.
  counter.Next(Answer({Backend("production", 3, "c1", 507, 40, 7, 2),
                       Backend("production", 2, "s1", 1028, 5)}),
               &canary, &stable);
  EXPECT_EQ(canary.requests, 7u);
  EXPECT_EQ(canary.errors, 2u);
  EXPECT_EQ(stable.requests, 28u);
  counter.Next(Answer({Backend("production", 3, "c1", 510, 40)}), &canary, &stable);
  EXPECT_EQ(canary.requests, 3u);
  EXPECT_EQ(stable.requests, 0u);  // s1 served nothing in this look
}

TEST(LookCounter, CountsAgainFromZeroAfterTheRouterRestarted) {
  LookCounter counter(kPair);
  counter.Start(Answer({Backend("production", 3, "c1", 5000, 50)}));
  RequestCounts canary, stable;
  counter.Next(Answer({Backend("production", 3, "c1", 12, 1)}), &canary, &stable);
  EXPECT_EQ(canary.requests, 12u);
  EXPECT_EQ(canary.errors, 1u);
}

TEST(LookCounter, CountsTheCountsCarriedOverToASuccessorOnlyOnce) {
  LookCounter counter(kPair);
  RouterStats start = Answer({Backend("production", 3, "c1", 5000, 50)});
  start.statsSinceMillis = 1000;
  counter.Start(start);
  RequestCounts canary, stable;
  // A take-over: the new worker counts 30 on its own (its statsSince is its start) …
  RouterStats own = Answer({Backend("production", 3, "c1", 30, 1)});
  own.statsSinceMillis = 9000;
  counter.Next(own, &canary, &stable);
  EXPECT_EQ(canary.requests, 30u);
  // … then is handed the old worker's 5000 (+ 4 it served while draining): nothing new here,
  RouterStats carried = Answer({Backend("production", 3, "c1", 5034, 51)});
  carried.statsSinceMillis = 1000;
  counter.Next(carried, &canary, &stable);
  EXPECT_EQ(canary.requests, 0u);
  // … and the next look counts on from there.
  RouterStats next = Answer({Backend("production", 3, "c1", 5044, 52)});
  next.statsSinceMillis = 1000;
  counter.Next(next, &canary, &stable);
  EXPECT_EQ(canary.requests, 10u);
  EXPECT_EQ(canary.errors, 1u);
}

TEST(LookCounter, OneFleetHostsRestartCountsThatHostsBackendsAgainAndNoOtherHosts) {
  auto host = [](int64_t since, std::vector<StatsRow> rows) {
    RouterStats s = Answer(std::move(rows));
    s.statsSinceMillis = since;
    return s;
  };
  LookCounter counter(kPair);
  counter.Start(MergeStats({host(1000, {Backend("production", 3, "h1-c", 100, 1),
                                        Backend("production", 2, "h1-s", 1000, 0)}),
                            host(2000, {Backend("production", 3, "h2-c", 100, 1),
                                        Backend("production", 2, "h2-s", 1000, 0)})}));
  RequestCounts canary, stable;
  // h2's router restarted: its counters start again from 0; h1's go on.
  counter.Next(MergeStats({host(1000, {Backend("production", 3, "h1-c", 110, 2),
                                       Backend("production", 2, "h1-s", 1040, 0)}),
                           host(9000, {Backend("production", 3, "h2-c", 5, 1),
                                       Backend("production", 2, "h2-s", 20, 0)})}),
               &canary, &stable);
  EXPECT_EQ(canary.requests, 15u);  // 10 on h1, 5 on h2 — not h1's 110 again
  EXPECT_EQ(canary.errors, 2u);
  EXPECT_EQ(stable.requests, 60u);
  // And the look after counts on from there on both.
  counter.Next(MergeStats({host(1000, {Backend("production", 3, "h1-c", 111, 2),
                                       Backend("production", 2, "h1-s", 1041, 0)}),
                           host(9000, {Backend("production", 3, "h2-c", 6, 1),
                                       Backend("production", 2, "h2-s", 21, 0)})}),
               &canary, &stable);
  EXPECT_EQ(canary.requests, 2u);
  EXPECT_EQ(stable.requests, 2u);
}

TEST(LookCounter, JudgesABluegreenPreviewAgainstProduction) {
  LookCounter counter({"web", "staging", "production", 3});
  counter.Start(Answer({}));
  RequestCounts canary, stable;
  counter.Next(Answer({Backend("staging", 3, "p1", 10, 1, 10, 1),
                       Backend("production", 2, "s1", 40, 0, 40, 0),
                       Backend("staging", 2, "old", 5, 5, 5, 5)}),  // staging's previous
               &canary, &stable);
  EXPECT_EQ(canary.requests, 10u);
  EXPECT_EQ(stable.requests, 40u);
  EXPECT_EQ(stable.errors, 0u);
}

TEST(LatencyOf, MergesTheAggregateRowsOfASideInTheRoutersBuckets) {
  StatsRow v1 = Backend("production", 1, "", 0, 0), v2 = Backend("production", 2, "", 0, 0);
  int ten = LatencyBucket(10'000), twenty = LatencyBucket(20'000);
  v1.latency = {{ten, 3}};
  v2.latency = {{ten, 1}, {twenty, 2}};
  LatencyHistogram h = LatencyOf(Answer({v1, v2}), kPair, -1);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].count, 4u);
  EXPECT_LE(h[0].lowMs, 10.0);
  EXPECT_GT(h[0].highMs, 10.0);
  EXPECT_EQ(h[1].count, 2u);
  EXPECT_TRUE(LatencyOf(Answer({v1, v2}), kPair, 1).empty());
}

TEST(TrafficOf, GivesStablesErrorRateTheCanarysShareAndTheRate) {
  StatsRow canary = Backend("production", 3, "", 0, 0, 200, 0);
  StatsRow stable = Backend("production", 2, "", 0, 0, 800, 8);
  RouterStats s = Answer({canary, stable});
  s.windowMillis = 2000;
  TrafficSeen t = TrafficOf(s, kPair);
  EXPECT_DOUBLE_EQ(t.stableErrorRate, 0.01);
  EXPECT_DOUBLE_EQ(t.canaryShare, 0.2);
  EXPECT_DOUBLE_EQ(t.requestsPerSecond, 500);
}

}  // namespace
}  // namespace lastgood
