#include <gtest/gtest.h>

#include "engine/executor.h"
#include "engine/fleet_record.h"
#include "router/stats.h"
#include "testutil/engine_world.h"

// A fleet rolling update's analysis after each wave (strategy.rolling.analysis,
// docs/fleets.md): the wave's version against the previous one on the hosts of later waves,
// and after the last wave against the limits alone — on fakes, each host's router a
// FakeRouter whose counts the test sets.
// A namespace of its own: the unity build puts this file beside the other fleet tests.
namespace lastgood::fleet_wave_analysis {
namespace {

using testutil::EngineWorld;
using testutil::WorldManifest;

std::string RollingWithAnalysis(const std::string& limits) {
  return WorldManifest(
      "strategy:\n  type: rolling\n  rolling:\n    maxSurge: 1\n    maxUnavailable: 0\n"
      "    analysis: { window: 2s, minRequests: 10, " +
          limits + " }\n",
      "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
}

// Host `host`'s router measures, over any window, `counts[v]` = {requests, errors} for each
// version v its production table routes to now (a version it does not serve: nothing).
void Traffic(EngineWorld& w, const std::string& host,
             std::map<int, std::pair<uint64_t, uint64_t>> counts) {
  testutil::FakeRouter* router = &w.hosts().router(host);
  router->SetStatsSource([router, counts](Millis window) {
    RouterStats out;
    out.windowMillis = window.count();
    auto table = router->Table();
    if (!table) return out;
    for (const auto& app : table->apps) {
      for (const auto& slot : app.slots) {
        if (slot.name != "production") continue;
        for (const auto& v : slot.versions) {
          auto it = counts.find(v.version);
          if (v.weight == 0 || v.backends.empty() || it == counts.end()) continue;
          StatsRow row;
          row.app = app.name;
          row.slot = slot.name;
          row.version = v.version;
          row.requests = it->second.first;
          row.responses5xx = it->second.second;
          row.responses2xx = row.requests - row.responses5xx;
          out.rows.push_back(row);
        }
      }
    }
    return out;
  });
}

std::vector<const Operation*> Analyses(const Deployment& d) {
  std::vector<const Operation*> out;
  for (const auto& op : d.operations) {
    if (op.step.find("analyse") != std::string::npos) out.push_back(&op);
  }
  return out;
}

TEST(FleetWaveAnalysis, EachWaveIsJudgedAndTheLastOneAgainstItsLimitsAlone) {
  EngineWorld w;
  for (const char* h : {"h1", "h2", "h3"}) w.AddHost(h);
  const std::string manifest = RollingWithAnalysis("maxErrorRateIncrease: 0.01");
  for (const char* h : {"h1", "h2", "h3"}) Traffic(w, h, {{1, {100, 0}}, {2, {100, 0}}});
  auto one = w.Apply(manifest, "v1");
  ASSERT_TRUE(one.ok()) << one.error().message;
  ASSERT_EQ(w.WaitSettled(one->deployment).state, DeploymentState::kSucceeded);
  auto two = w.Apply(manifest, "v2");
  ASSERT_TRUE(two.ok()) << two.error().message;
  Deployment d = w.WaitSettled(two->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  auto analyses = Analyses(d);
  ASSERT_EQ(analyses.size(), 2u);
  EXPECT_EQ(analyses[0]->step, "wave 1: analyse v2 against the previous version");
  EXPECT_EQ(analyses[0]->host, "");
  EXPECT_NE(analyses[0]->detail.find("passed"), std::string::npos) << analyses[0]->detail;
  EXPECT_EQ(analyses[1]->step,
            "wave 2: analyse v2 against its limits (no host runs the previous version)");
  EXPECT_NE(analyses[1]->detail.find("judged against the limits alone"), std::string::npos)
      << analyses[1]->detail;
}

TEST(FleetWaveAnalysis, AWaveWorseThanThePreviousVersionOnLaterHostsFailsAndIsRolledBack) {
  EngineWorld w;
  for (const char* h : {"h1", "h2", "h3"}) w.AddHost(h);
  const std::string manifest = RollingWithAnalysis("maxErrorRate: 0.5, maxErrorRateIncrease: 0.02");
  for (const char* h : {"h1", "h2", "h3"}) Traffic(w, h, {{1, {100, 1}}, {2, {100, 5}}});
  auto one = w.Apply(manifest, "v1");
  ASSERT_TRUE(one.ok()) << one.error().message;
  ASSERT_EQ(w.WaitSettled(one->deployment).state, DeploymentState::kSucceeded);
  // v2 fails 5% on h1; v1 fails 1% on h2 and h3: an increase of 4 points, beyond 2.
  auto two = w.Apply(manifest, "v2");
  ASSERT_TRUE(two.ok()) << two.error().message;
  Deployment d = w.WaitSettled(two->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.reason.find("analysis failed"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("maxErrorRateIncrease"), std::string::npos) << d.reason;
  for (const auto& op : d.operations) {  // the second wave's hosts were never touched
    if (op.host == "h2" || op.host == "h3") {
      EXPECT_TRUE(op.state != OperationState::kSucceeded || op.step.rfind("prepare", 0) == 0)
          << op.host << " " << op.step;
    }
  }
  auto rollback = w.engine().FollowUp("web", two->deployment);
  ASSERT_TRUE(rollback.has_value());
  Deployment rb = w.WaitSettled(*rollback);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  EXPECT_EQ(HostsOf(rb), (std::vector<std::string>{"h1"}));
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
}

TEST(FleetWaveAnalysis, TheLastWaveBreakingAnAbsoluteLimitFailsTheDeployment) {
  EngineWorld w;
  for (const char* h : {"h1", "h2", "h3"}) w.AddHost(h);
  const std::string manifest = RollingWithAnalysis("maxErrorRate: 0.05");
  // v2 alone on h1 passes; on the three hosts it fails 40 of 300 (13%).
  Traffic(w, "h1", {{1, {100, 0}}, {2, {100, 0}}});
  Traffic(w, "h2", {{1, {100, 0}}, {2, {100, 20}}});
  Traffic(w, "h3", {{1, {100, 0}}, {2, {100, 20}}});
  auto one = w.Apply(manifest, "v1");
  ASSERT_TRUE(one.ok()) << one.error().message;
  Deployment first = w.WaitSettled(one->deployment);
  ASSERT_EQ(first.state, DeploymentState::kSucceeded) << first.reason;
  EXPECT_TRUE(Analyses(first).empty()) << "a first deployment has nothing to compare with";
  auto two = w.Apply(manifest, "v2");
  ASSERT_TRUE(two.ok()) << two.error().message;
  Deployment d = w.WaitSettled(two->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  auto analyses = Analyses(d);
  ASSERT_EQ(analyses.size(), 2u);
  EXPECT_EQ(analyses[0]->state, OperationState::kSucceeded) << analyses[0]->detail;
  EXPECT_EQ(analyses[1]->state, OperationState::kFailed) << analyses[1]->detail;
  EXPECT_NE(analyses[1]->detail.find("maxErrorRate"), std::string::npos) << analyses[1]->detail;
  EXPECT_NE(analyses[1]->detail.find("40 errors"), std::string::npos) << analyses[1]->detail;
}

}  // namespace
}  // namespace lastgood::fleet_wave_analysis
