#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>

#include "engine/fleet_record.h"
#include "router/stats.h"
#include "testutil/engine_world.h"
#include "testutil/fleet_world.h"

// A fleet canary under `judge: sequential` (docs/fleets.md, "Canaries across hosts"): the
// judge is fed the hosts' counters added up, look after look, so it decides on the whole
// wave's traffic — early for a bad canary, on time for a good one. On fakes: each host's
// router a FakeRouter whose cumulative counters grow with the fake clock.
// A namespace of its own: the unity build puts this file beside the other fleet tests.
namespace lastgood::fleet_sequential {
namespace {

using testutil::EngineWorld;
using testutil::RoutedOn;
using testutil::WorldManifest;

constexpr const char* kSequentialCanary =
    "strategy:\n  type: canary\n  canary:\n    steps:\n"
    "      - weight: 50\n"
    "      - analysis: { judge: sequential, window: 30s }\n";

// Requests per second each version takes on each host that routes to it.
constexpr uint64_t kPerSecond = 100;

// Host `host`'s router: each version it routes production's traffic to counts kPerSecond
// requests a second of fake time from when it first saw it routed, `percent_failing[v]` of
// them failed, as the real router's cumulative counters do (one backend per version and host,
// named like the host's instances: the hosts' rows never share a backend).
void GrowingTraffic(EngineWorld& w, const std::string& host,
                    std::map<int, uint64_t> percent_failing) {
  testutil::FakeRouter* router = &w.hosts().router(host);
  auto since = std::make_shared<std::map<int, int64_t>>();
  auto mu = std::make_shared<std::mutex>();
  router->SetStatsSource([&w, router, host, percent_failing, since, mu](Millis window) {
    std::lock_guard lock(*mu);
    const int64_t now = w.clock().NowMillis();
    RouterStats out;
    out.windowMillis = window.count();
    auto table = router->Table();
    if (!table) return Result<RouterStats>(out);
    for (const auto& app : table->apps) {
      for (const auto& slot : app.slots) {
        if (slot.name != "production") continue;
        for (const auto& v : slot.versions) {
          auto failing = percent_failing.find(v.version);
          if (v.weight == 0 || v.backends.empty() || failing == percent_failing.end()) continue;
          const int64_t from = since->try_emplace(v.version, now).first->second;
          const uint64_t requests = uint64_t(now - from) * kPerSecond / 1000;
          StatsRow row;
          row.app = app.name;
          row.slot = slot.name;
          row.version = v.version;
          row.requests = row.totalRequests = requests;
          row.responses5xx = row.totalErrors = requests * failing->second / 100;
          row.responses2xx = requests - row.responses5xx;
          out.rows.push_back(row);
          row.backend = app.name + "-production-v" + std::to_string(v.version) + "-" + host;
          out.rows.push_back(row);
        }
      }
    }
    return Result<RouterStats>(out);
  });
}

const Operation* Analysis(const Deployment& d) {
  for (const auto& op : d.operations) {
    if (op.step.find("analyse canary") != std::string::npos) return &op;
  }
  return nullptr;
}

int64_t SecondsOf(const Operation& op) { return (op.finishedAt - op.startedAt) / 1000; }

TEST(FleetSequentialJudge, ACanaryBadOnOneHostFailsEarlyOnTheHostsCountsAddedUp) {
  EngineWorld w;
  testutil::ThreeHosts(w);
  const std::string manifest = WorldManifest(kSequentialCanary, "hosts: [h1, h2, h3]\n");
  // v2 fails 60% of its requests on h3 alone: h1 or h2 judged alone would pass it.
  GrowingTraffic(w, "h1", {{1, 0}, {2, 0}});
  GrowingTraffic(w, "h2", {{1, 0}, {2, 0}});
  GrowingTraffic(w, "h3", {{1, 0}, {2, 60}});
  testutil::Deploy(w, manifest, "v1");
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed) << d.reason;
  EXPECT_NE(d.reason.find("analysis failed"), std::string::npos) << d.reason;
  const Operation* analysis = Analysis(d);
  ASSERT_NE(analysis, nullptr);
  EXPECT_EQ(analysis->host, "") << "one analysis of the whole wave";
  // Decided early: well within the 30 s window, not at window + progressDeadline.
  EXPECT_LT(SecondsOf(*analysis), 10) << analysis->detail;
  EXPECT_NE(analysis->detail.find("beyond the"), std::string::npos) << analysis->detail;
  auto rollback = w.engine().FollowUp("web", o->deployment);
  ASSERT_TRUE(rollback.has_value());
  EXPECT_EQ(w.WaitSettled(*rollback).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
}

TEST(FleetSequentialJudge, AGoodCanaryOnEveryHostPassesOnTheHostsCountsAddedUp) {
  EngineWorld w;
  testutil::ThreeHosts(w);
  const std::string manifest = WorldManifest(kSequentialCanary, "hosts: [h1, h2, h3]\n");
  for (const char* h : {"h1", "h2", "h3"}) GrowingTraffic(w, h, {{1, 1}, {2, 1}});
  testutil::Deploy(w, manifest, "v1");
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  const Operation* analysis = Analysis(d);
  ASSERT_NE(analysis, nullptr);
  EXPECT_NE(analysis->detail.find("passed"), std::string::npos) << analysis->detail;
  EXPECT_LT(SecondsOf(*analysis), 30) << analysis->detail;
  // The canary's requests are the three hosts' own added up: at kPerSecond on each host,
  // more than one host alone could have counted in the time the analysis took.
  const auto at = analysis->detail.find(" of ");
  ASSERT_NE(at, std::string::npos) << analysis->detail;
  const uint64_t canary_requests = std::stoull(analysis->detail.substr(at + 4));
  EXPECT_GT(canary_requests, uint64_t(SecondsOf(*analysis) + 1) * kPerSecond) << analysis->detail;
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
}

}  // namespace
}  // namespace lastgood::fleet_sequential
