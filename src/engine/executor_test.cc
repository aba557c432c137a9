#include "engine/executor.h"

#include <gtest/gtest.h>

#include "history/reasons.h"
#include "testutil/engine_world.h"

// The executor's behaviour, driven through the Engine with fakes at every seam
// (tests/testutil/engine_world.h): deterministic, no process, no wall-clock wait. Time moves
// only when the engine waits on the fake clock, so a 10-minute pause takes microseconds.
namespace lastgood {
namespace {

using testutil::EngineWorld;
using testutil::WaitUntil;
using testutil::WorldManifest;

constexpr const char* kRecreate = "strategy: { type: recreate }\n";
constexpr const char* kRolling =
    "strategy: { type: rolling, rolling: { maxSurge: 1, maxUnavailable: 0 } }\n";
constexpr const char* kCanary =
    "strategy:\n  type: canary\n  canary:\n    steps:\n"
    "      - weight: 50\n"
    "      - pause: 5s\n"
    "      - analysis: { window: 2s, minRequests: 10, maxErrorRate: 0.1 }\n";
constexpr const char* kBlueGreen = "strategy: { type: bluegreen }\n";
// A canary that waits for `lastgood resume` after taking half the traffic.
constexpr const char* kCanaryUntilResumed =
    "strategy:\n  type: canary\n  canary:\n    steps:\n"
    "      - weight: 50\n"
    "      - pause: untilResumed\n"
    "      - weight: 80\n";
constexpr const char* kBakeAndKeep = "bake: 1s\nrollback: { keepPrevious: 10m }\n";

// Deploys v1 of `manifest` and waits for it to succeed; returns its deployment's name.
std::string DeployFirst(EngineWorld& w, const std::string& manifest) {
  auto o = w.Apply(manifest, "v1");
  EXPECT_TRUE(o.ok()) << o.error().message;
  if (!o.ok()) return "";
  EXPECT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
  return o->deployment;
}

// The router measures healthy traffic for both versions, so that an analysis can pass.
void HealthyTraffic(EngineWorld& w) {
  w.router().SetTraffic("web", "production", 1, 1000, 0);
  w.router().SetTraffic("web", "production", 2, 1000, 0);
}

// What a user must find after v2 was deployed, whatever happened on the way.
void ExpectRunsV2Only(EngineWorld& w, const std::string& context) {
  EXPECT_EQ(w.SlotVersion(), 2) << context;
  EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{2, 2}})) << context;
  EXPECT_TRUE(w.RecordsAreAlive()) << context;
  EXPECT_EQ(w.Routed(), std::set<int>{2}) << context;
}

struct StrategyCase {
  const char* name;
  const char* yaml;
};

class ResumeAfterCrash : public ::testing::TestWithParam<StrategyCase> {};

// A crash after each commit of a deployment, one commit later each time: after the restart
// the deployment goes on from its record and ends as it would have without the crash.
TEST_P(ResumeAfterCrash, EveryCommitOfADeploymentIsAPointFromWhichItResumesAndSucceeds) {
  const std::string manifest = WorldManifest(GetParam().yaml, kBakeAndKeep);
  // How many commits a clean deployment of v2 makes (the apply's own included).
  int commits = 0;
  {
    EngineWorld w;
    HealthyTraffic(w);
    DeployFirst(w, manifest);
    const int before = w.store().Commits();
    auto o = w.Apply(manifest, "v2");
    ASSERT_TRUE(o.ok()) << o.error().message;
    ASSERT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
    ExpectRunsV2Only(w, "without a crash");
    commits = w.store().Commits() - before;
    ASSERT_GT(commits, 5);
  }
  for (int n = 0; n <= commits; ++n) {
    const std::string context = std::string(GetParam().name) + ", crash after commit " +
                                std::to_string(n) + " of " + std::to_string(commits);
    EngineWorld w;
    HealthyTraffic(w);
    DeployFirst(w, manifest);
    w.CrashAfter(n);
    auto o = w.Apply(manifest, "v2");
    if (!o.ok()) {
      // It died before the deployment was on record: nothing was started, v1 serves on.
      ASSERT_TRUE(w.Crashed()) << context << ": " << o.error().message;
      w.CleanUpAfterCrash();
      w.Start();
      EXPECT_EQ(w.SlotVersion(), 1) << context;
      EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}})) << context;
      auto running = w.sqlite().RunningDeployments();
      EXPECT_TRUE(running.ok() && running->empty()) << context;
      continue;
    }
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto d = w.sqlite().GetDeployment("web", o->deployment);
          return w.Crashed() || (d.ok() && IsFinal(d->state));
        },
        EngineWorld::kRealDeadline, std::chrono::milliseconds(1)))
        << context;
    w.CleanUpAfterCrash();
    w.Start();
    Deployment d = w.WaitSettled(o->deployment);
    EXPECT_EQ(d.state, DeploymentState::kSucceeded) << context << ": " << d.reason;
    EXPECT_EQ(w.VerdictOf(2), Verdict::kGood) << context;
    ExpectRunsV2Only(w, context);
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, ResumeAfterCrash,
                         ::testing::Values(StrategyCase{"recreate", kRecreate},
                                           StrategyCase{"rolling", kRolling},
                                           StrategyCase{"canary", kCanary},
                                           StrategyCase{"bluegreen", kBlueGreen}),
                         [](const auto& info) { return std::string(info.param.name); });

// A rollback to v1, still warm (keepPrevious), after v2 replaced it.
Result<Outcome> RollbackToWarm(EngineWorld& w) {
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  return w.engine().Rollback(req);
}

TEST(WarmRollback, TheTrafficIsBackOnTheWarmVersionWhenTheCommandReturns) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kRolling, kBakeAndKeep);
  DeployFirst(w, manifest);
  auto v2 = w.Apply(manifest, "v2");
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  ASSERT_EQ(w.WaitSettled(v2->deployment).state, DeploymentState::kSucceeded);
  ASSERT_EQ(w.Routed(), std::set<int>{2});
  const int starts = w.target().Starts();

  auto rb = RollbackToWarm(w);
  ASSERT_TRUE(rb.ok()) << rb.error().message;
  EXPECT_EQ(w.Routed(), std::set<int>{1}) << "in force before the worker's first step";
  Deployment d = w.WaitSettled(rb->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded);
  EXPECT_NE(d.operations[0].detail.find("after the rollback reached the controller"),
            std::string::npos)
      << d.operations[0].detail;
  EXPECT_EQ(w.target().Starts(), starts) << "no instance started: the warm ones took over";
  EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}}));
  EXPECT_TRUE(w.RecordsAreAlive());
  EXPECT_EQ(w.SlotVersion(), 1);
}

TEST(WarmRollback, AWarmInstanceThatDiedIsStartedAgainAndTheRollbackSucceeds) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kRolling, kBakeAndKeep);
  DeployFirst(w, manifest);
  auto v2 = w.Apply(manifest, "v2");
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  ASSERT_EQ(w.WaitSettled(v2->deployment).state, DeploymentState::kSucceeded);
  auto all = w.sqlite().ListInstances("web");
  ASSERT_TRUE(all.ok());
  for (const auto& i : *all) {
    if (i.version == 1) {
      w.target().Kill(i.id);
      break;
    }
  }
  auto rb = RollbackToWarm(w);
  ASSERT_TRUE(rb.ok()) << rb.error().message;
  EXPECT_EQ(w.WaitSettled(rb->deployment).state, DeploymentState::kSucceeded);
  EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}}));
  EXPECT_TRUE(w.RecordsAreAlive());
  EXPECT_EQ(w.Routed(), std::set<int>{1});
}

TEST(WarmRollback, EveryCommitOfAWarmRollbackIsAPointFromWhichItResumesAndSucceeds) {
  const std::string manifest = WorldManifest(kRolling, kBakeAndKeep);
  auto given = [&](EngineWorld& w) {
    DeployFirst(w, manifest);
    auto v2 = w.Apply(manifest, "v2");
    ASSERT_TRUE(v2.ok()) << v2.error().message;
    ASSERT_EQ(w.WaitSettled(v2->deployment).state, DeploymentState::kSucceeded);
  };
  int commits = 0;
  {
    EngineWorld w;
    given(w);
    const int before = w.store().Commits();
    auto rb = RollbackToWarm(w);
    ASSERT_TRUE(rb.ok()) << rb.error().message;
    ASSERT_EQ(w.WaitSettled(rb->deployment).state, DeploymentState::kSucceeded);
    commits = w.store().Commits() - before;
  }
  for (int n = 0; n <= commits; ++n) {
    const std::string context = "crash after commit " + std::to_string(n) + " of " +
                                std::to_string(commits) + " of the rollback";
    EngineWorld w;
    given(w);
    w.CrashAfter(n);
    auto rb = RollbackToWarm(w);
    if (!rb.ok()) {
      ASSERT_TRUE(w.Crashed()) << context << ": " << rb.error().message;
      w.CleanUpAfterCrash();
      w.Start();
      EXPECT_EQ(w.Routed(), std::set<int>{2}) << context;
      continue;
    }
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto d = w.sqlite().GetDeployment("web", rb->deployment);
          return w.Crashed() || (d.ok() && IsFinal(d->state));
        },
        EngineWorld::kRealDeadline, std::chrono::milliseconds(1)))
        << context;
    w.CleanUpAfterCrash();
    w.Start();
    Deployment d = w.WaitSettled(rb->deployment);
    EXPECT_EQ(d.state, DeploymentState::kSucceeded) << context << ": " << d.reason;
    EXPECT_EQ(w.SlotVersion(), 1) << context;
    EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}})) << context;
    EXPECT_TRUE(w.RecordsAreAlive()) << context;
    EXPECT_EQ(w.Routed(), std::set<int>{1}) << context;
  }
}

TEST(Executor, ACanaryThatFailsItsAnalysisIsRolledBackByItselfAndMarkedBad) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kCanary);
  HealthyTraffic(w);
  DeployFirst(w, manifest);
  w.router().SetTraffic("web", "production", 2, 100, 50);  // the canary fails half its requests
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.reason.find("analysis failed"), std::string::npos) << d.reason;
  auto rollback = w.engine().FollowUp("web", o->deployment);
  ASSERT_TRUE(rollback.has_value());
  Deployment rb = w.WaitSettled(*rollback);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded);
  EXPECT_EQ(rb.trigger, Trigger::kAuto);
  EXPECT_EQ(rb.kind, DeploymentKind::kRollback);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
  EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}}));
  EXPECT_EQ(w.Routed(), std::set<int>{1});
}

TEST(Executor, APauseStepWaitsForResumeHoweverLongItTakes) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kCanaryUntilResumed);
  DeployFirst(w, manifest);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.WaitAtStep(o->deployment, "pause until"));
  // Ten minutes of the fake clock pass while it waits; it is still there.
  const auto at = w.clock().Elapsed();
  ASSERT_TRUE(WaitUntil([&] { return w.clock().Elapsed() > at + std::chrono::minutes(10); },
                        EngineWorld::kRealDeadline, std::chrono::milliseconds(1)));
  EXPECT_TRUE(w.WaitAtStep(o->deployment, "pause until"));
  EXPECT_EQ(w.Slot()->canaryWeight, 50);

  auto resumed = w.engine().Control({"web", "resume", false, "test"});
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded);
  bool said = false;
  for (const auto& op : d.operations) said = said || op.detail == "resumed by the user";
  EXPECT_TRUE(said);
  ExpectRunsV2Only(w, "after resume");
}

TEST(Executor, AUserPauseHoldsTheDeploymentAtItsNextStepUntilResumed) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kRolling);
  DeployFirst(w, manifest);
  w.target().HoldStarts(true);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  // While the first new instance is starting, the user pauses.
  ASSERT_TRUE(w.target().WaitForHeldStart(EngineWorld::kRealDeadline));
  auto paused = w.engine().Control({"web", "pause", false, "test"});
  ASSERT_TRUE(paused.ok()) << paused.error().message;
  w.target().HoldStarts(false);
  // The step under way ends; the next one does not start.
  auto held_at = [&] {
    Deployment d = w.Record(o->deployment);
    return d.cursor < static_cast<int>(d.operations.size()) &&
                   d.operations[d.cursor].detail.rfind("paused by the user", 0) == 0
               ? d.cursor
               : -1;
  };
  ASSERT_TRUE(WaitUntil([&] { return held_at() > 0; }, EngineWorld::kRealDeadline,
                        std::chrono::milliseconds(1)));
  const int cursor = held_at();
  const auto at = w.clock().Elapsed();
  ASSERT_TRUE(WaitUntil([&] { return w.clock().Elapsed() > at + std::chrono::minutes(10); },
                        EngineWorld::kRealDeadline, std::chrono::milliseconds(1)));
  EXPECT_EQ(held_at(), cursor);
  EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}, {2, 1}}));

  auto resumed = w.engine().Control({"web", "resume", false, "test"});
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
  ExpectRunsV2Only(w, "after resume");
}

TEST(Executor, AnAbortRollsBackToTheLastGoodVersionAndMarksTheReleaseBad) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kCanaryUntilResumed);
  DeployFirst(w, manifest);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.WaitAtStep(o->deployment, "pause until"));
  auto aborted = w.engine().Control({"web", "abort", false, "alice"});
  ASSERT_TRUE(aborted.ok()) << aborted.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kRolledBack);
  EXPECT_EQ(d.reason, "aborted by alice");
  auto list = w.sqlite().ListDeployments("web", 1);
  ASSERT_TRUE(list.ok() && !list->empty());
  Deployment rb = w.WaitSettled(list->front().name);
  EXPECT_EQ(rb.kind, DeploymentKind::kRollback);
  EXPECT_EQ(rb.trigger, Trigger::kUser);
  EXPECT_EQ(rb.actor, "alice");
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
  EXPECT_EQ(w.Routed(), std::set<int>{1});
}

TEST(Executor, ARollbackPreemptsTheRunningDeploymentWhichIsCanceledNotJudged) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kCanaryUntilResumed);
  DeployFirst(w, manifest);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.WaitAtStep(o->deployment, "pause until"));
  RollRequest req;
  req.app = "web";
  req.actor = "bob";
  auto rb = w.engine().Rollback(req);
  ASSERT_TRUE(rb.ok()) << rb.error().message;
  EXPECT_EQ(rb->version, 1);
  Deployment d = w.Record(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kCanceled);
  EXPECT_EQ(d.reason, kReasonCanceledByRollback);
  EXPECT_EQ(w.WaitSettled(rb->deployment).state, DeploymentState::kSucceeded);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(w.VerdictOf(2), Verdict::kUntested);  // people roll back for other reasons too
  EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}}));
  EXPECT_EQ(w.Routed(), std::set<int>{1});
}

TEST(Executor, AFailedCommitStopsTheDeploymentWhichEndsWithTheStoreErrorOnceTheStoreAnswers) {
  EngineWorld w;
  const std::string manifest = WorldManifest(kCanaryUntilResumed);
  DeployFirst(w, manifest);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.WaitAtStep(o->deployment, "pause until"));
  // From now the disk refuses every commit; the user's resume still reaches the executor
  // (written under the faults), which must record the end of the pause to go on.
  w.store().FailFrom(1);
  ASSERT_TRUE(w.sqlite().SetIntent("web", o->deployment, Intent{IntentKind::kResume, "test"}).ok());
  ASSERT_TRUE(WaitUntil([&] { return w.store().Refused() >= 3; }, EngineWorld::kRealDeadline,
                        std::chrono::milliseconds(1)));
  // It did not go on: the canary keeps its 50%, no instance was started, the record is as
  // it was.
  EXPECT_EQ(w.Record(o->deployment).state, DeploymentState::kRunning);
  EXPECT_EQ(w.Slot()->canaryWeight, 50);
  EXPECT_EQ(w.LiveOnRecord(), (std::map<int, int>{{1, 2}, {2, 1}}));
  EXPECT_EQ(w.target().Alive().size(), 3u);

  w.store().Heal();
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_EQ(d.reason.rfind(kReasonStoreFailed, 0), 0u) << d.reason;
  EXPECT_NE(d.reason.find(testutil::kInjectedStoreFault), std::string::npos) << d.reason;
  EXPECT_EQ(w.VerdictOf(2), Verdict::kUntested);  // the disk failed, not the release
  auto rollback = w.engine().FollowUp("web", o->deployment);
  ASSERT_TRUE(rollback.has_value());
  EXPECT_EQ(w.WaitSettled(*rollback).state, DeploymentState::kSucceeded);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(w.Routed(), std::set<int>{1});
}

}  // namespace
}  // namespace lastgood
