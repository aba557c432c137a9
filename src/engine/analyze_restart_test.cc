#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "base/clock.h"
#include "base/duration.h"
#include "engine/analysis.h"
#include "testutil/engine_world.h"

// The analysis step (threshold judge) across a restart of the router that could hand nothing
// over (a crash, SIGKILL): the router counts only since its restart (statsSince), and the
// analysis judges a whole window from there instead of the short one it was left with —
// through the Engine with fakes (tests/testutil/engine_world.h), the router's counts moving
// with the fake clock.
namespace lastgood {
namespace {

using testutil::EngineWorld;
using testutil::WorldManifest;

constexpr const char* kAnalysed =
    "strategy:\n  type: canary\n  canary:\n    steps:\n"
    "      - weight: 50\n"
    "      - analysis: { window: 30s, minRequests: 200 }\n";

// A router under steady traffic on the world's fake clock: each side serves 10 requests a
// second, one in `error_every` of the canary's failing (0: none). Once armed, the first ask
// is the analysis' first look; the router restarts `after` it, then every `every` (0: once),
// each time forgetting what it had counted, as a worker killed by SIGKILL does.
class SteadyRouter {
 public:
  SteadyRouter(EngineWorld& w, uint64_t error_every) : w_(w), error_every_(error_every) {
    w.router().SetStatsSource([this](Millis window) { return Stats(window); });
  }
  ~SteadyRouter() { w_.router().SetStatsSource(nullptr); }

  void Arm(Millis after, Millis every = Millis(0)) {
    std::lock_guard lock(mu_);
    armed_ = true, after_ = after, every_ = every;
  }
  // The restart was a take-over: `later` after it, the predecessor's counts arrive and the
  // router's counts are whole again (statsSince back where it was).
  void CarriedOverAfter(Millis later) {
    std::lock_guard lock(mu_);
    carried_after_ = later;
  }
  // From `after` past the first look, for `how_long`, the router does not answer (a worker
  // killed, its successor not yet on the control socket).
  void SilentAfter(Millis after, Millis how_long) {
    std::lock_guard lock(mu_);
    silent_after_ = after, silent_for_ = how_long;
  }
  // When the first restart happened (wall clock), 0 before.
  int64_t FirstRestartMillis() {
    std::lock_guard lock(mu_);
    return first_look_ms_ < 0 ? 0 : first_look_ms_ + after_.count();
  }

 private:
  Result<RouterStats> Stats(Millis window) {
    std::lock_guard lock(mu_);
    const int64_t now = w_.clock().NowMillis();
    if (armed_ && first_look_ms_ < 0) first_look_ms_ = now;
    if (armed_ && silent_for_.count() > 0 && now >= first_look_ms_ + silent_after_.count() &&
        now < first_look_ms_ + silent_after_.count() + silent_for_.count()) {
      return Error::Unavailable("cannot connect to the router: Connection refused (fake)");
    }
    int64_t since = started_ms_;
    if (armed_ && now >= first_look_ms_ + after_.count()) {
      since = first_look_ms_ + after_.count();
      if (every_.count() > 0) since += (now - since) / every_.count() * every_.count();
      if (carried_after_.count() > 0 && now >= since + carried_after_.count()) since = started_ms_;
    }
    const int64_t from = std::max(now - window.count(), since);
    const uint64_t requests = static_cast<uint64_t>(std::max<int64_t>(0, now - from) / 100);
    RouterStats stats;
    stats.windowMillis = window.count();
    stats.statsSinceMillis = since;
    for (int version : {1, 2}) {
      StatsRow row;
      row.app = "web";
      row.slot = "production";
      row.version = version;
      row.requests = requests;
      row.responses5xx = version == 2 && error_every_ ? requests / error_every_ : 0;
      row.responses2xx = row.requests - row.responses5xx;
      row.p99ms = 10;
      stats.rows.push_back(row);
    }
    return stats;
  }

  EngineWorld& w_;
  const uint64_t error_every_;
  const int64_t started_ms_ = w_.clock().NowMillis() - 600'000;  // serving for a while
  std::mutex mu_;
  bool armed_ = false;
  Millis after_{0}, every_{0}, carried_after_{0}, silent_after_{0}, silent_for_{0};
  int64_t first_look_ms_ = -1;
};

// v1 deployed (the router restarts nothing yet); then v2, analysed, to its end.
Deployment DeployV2(EngineWorld& w, SteadyRouter& router, Millis restart_after,
                    Millis restart_every = Millis(0)) {
  auto v1 = w.Apply(WorldManifest(kAnalysed), "v1");
  EXPECT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(w.WaitSettled(v1->deployment).state, DeploymentState::kSucceeded);
  router.Arm(restart_after, restart_every);
  auto v2 = w.Apply(WorldManifest(kAnalysed), "v2");
  EXPECT_TRUE(v2.ok()) << v2.error().message;
  return w.WaitSettled(v2->deployment);
}

std::string AnalysisDetail(const Deployment& d) {
  for (const auto& op : d.operations) {
    if (op.step.rfind("analyse", 0) == 0) return op.detail;
  }
  return "";
}

TEST(AnalysisAcrossARouterRestart, AGoodCanaryIsJudgedOnAWholeWindowFromTheRestartAndPasses) {
  // 30 s window, 200 requests at 10/s: judged on the 50 requests since a restart at 25 s it
  // would wait for 200 until window + progressDeadline (40 s) and fail for want of data.
  EngineWorld w;
  SteadyRouter router(w, 0);
  Deployment d = DeployV2(w, router, Millis(25'000));
  ASSERT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  EXPECT_EQ(w.SlotVersion(), 2);
  const std::string detail = AnalysisDetail(d);
  EXPECT_EQ(detail.rfind("passed: canary: 30", 0), 0u) << detail;  // a whole window: ~300
  EXPECT_NE(detail.find("router restarted at " + FormatTimestamp(router.FirstRestartMillis()) +
                        ": window extended"),
            std::string::npos)
      << detail;
}

TEST(AnalysisAcrossARouterRestart, CountsCarriedOverAMomentAfterATakeOverLeaveTheWindowWhole) {
  // A take-over at 25 s: for a second the new worker has only its own counts, then its
  // predecessor's arrive. The window is judged whole at 30 s, with no restart in its detail.
  EngineWorld w;
  SteadyRouter router(w, 0);
  router.CarriedOverAfter(Millis(1000));
  Deployment d = DeployV2(w, router, Millis(25'000));
  ASSERT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  const std::string detail = AnalysisDetail(d);
  EXPECT_EQ(detail.rfind("passed: canary: 30", 0), 0u) << detail;
  EXPECT_EQ(detail.find("router restarted"), std::string::npos) << detail;
}

TEST(AnalysisAcrossARouterRestart, ARouterSilentForAMomentAfterACrashIsWaitedFor) {
  // The worker is killed at 10 s; its successor answers 300 ms later, counting from then.
  EngineWorld w;
  SteadyRouter router(w, 0);
  router.SilentAfter(Millis(10'000), Millis(300));
  Deployment d = DeployV2(w, router, Millis(10'300));
  ASSERT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  const std::string detail = AnalysisDetail(d);
  EXPECT_EQ(detail.rfind("passed: ", 0), 0u) << detail;
  EXPECT_NE(detail.find(": window extended"), std::string::npos) << detail;
}

TEST(AnalysisAcrossARouterRestart, ARouterSilentLongerThanItsLimitFailsTheAnalysis) {
  EngineWorld w;
  SteadyRouter router(w, 0);
  router.SilentAfter(Millis(10'000), Millis(60'000));
  Deployment d = DeployV2(w, router, Millis(100'000));
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.reason.find("cannot read the router's stats: cannot connect to the router"),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(w.SlotVersion(), 1);
}

TEST(AnalysisAcrossARouterRestart, ABadCanaryStillFailsOnItsErrorRateNotForWantOfData) {
  // One request in 20 fails (5% > 1%); 150 requests seen before the restart at 15 s.
  EngineWorld w;
  SteadyRouter router(w, 20);
  Deployment d = DeployV2(w, router, Millis(15'000));
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_NE(d.reason.find("error rate 5.00% > maxErrorRate 1.00%"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("router restarted at " + FormatTimestamp(router.FirstRestartMillis()) +
                          ": window extended"),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(d.reason.find("no verdict"), std::string::npos) << d.reason;
}

TEST(AnalysisAcrossARouterRestart, ARouterThatKeepsRestartingEndsItUndecidedOneWindowLateAtMost) {
  // A restart every 10 s: never 200 requests in a row. The deadline moves with the restarts,
  // by one window at most: 30 s + 10 s + 30 s.
  EngineWorld w;
  SteadyRouter router(w, 0);
  Deployment d = DeployV2(w, router, Millis(10'000), Millis(10'000));
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_NE(d.reason.find("analysis reached no verdict within " + FormatDuration(Millis(70'000))),
            std::string::npos)
      << d.reason;
  EXPECT_NE(d.reason.find(": window extended"), std::string::npos) << d.reason;
}

}  // namespace
}  // namespace lastgood
