#include <gtest/gtest.h>

#include "engine/executor.h"
#include "engine/fleet_record.h"
#include "history/reasons.h"
#include "testutil/engine_world.h"
#include "testutil/fleet_world.h"

// The verbs of a running or ended fleet deployment (docs/fleets.md): pause, resume and abort,
// rollforward after a fleet rollback, promote of an old version — through the Engine, each
// host a FakeTarget and a FakeRouter.
// A namespace of its own: the unity build puts this file beside fleet_executor_test.cc.
namespace lastgood::fleet_control {
namespace {

using testutil::EngineWorld;
using testutil::RoutedOn;
using testutil::ThreeHosts;
using testutil::WaitUntil;
using testutil::WorldManifest;

const std::string kFleet =
    WorldManifest("strategy: { type: rolling, rolling: { maxSurge: 1, maxUnavailable: 0 } }\n",
                  "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");

std::string Deploy(EngineWorld& w, const std::string& label) {
  return testutil::Deploy(w, kFleet, label);
}

void ExpectEveryHostRoutes(EngineWorld& w, int version) {
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{version}) << h;
}

std::string Newest(EngineWorld& w) {
  auto list = w.sqlite().ListDeployments("web", 1);
  return list.ok() && !list->empty() ? list->front().name : "";
}

TEST(FleetControl, APauseHoldsAFleetDeploymentBeforeItsNextWaveUntilResumed) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, "v1");
  w.hosts().target("h1").HoldStarts(true);
  auto o = w.Apply(kFleet, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.hosts().target("h1").WaitForHeldStart(EngineWorld::kRealDeadline));
  auto paused = w.engine().Control({"web", "pause", false, "test"});
  ASSERT_TRUE(paused.ok()) << paused.error().message;
  w.hosts().target("h1").HoldStarts(false);
  auto held = [&] {
    Deployment d = w.Record(o->deployment);
    return d.cursor < static_cast<int>(d.operations.size()) &&
           d.operations[d.cursor].detail.rfind("paused by the user", 0) == 0;
  };
  ASSERT_TRUE(WaitUntil(held, EngineWorld::kRealDeadline, std::chrono::milliseconds(1)));
  const auto at = w.clock().Elapsed();
  ASSERT_TRUE(WaitUntil([&] { return w.clock().Elapsed() > at + std::chrono::minutes(10); },
                        EngineWorld::kRealDeadline, std::chrono::milliseconds(1)));
  EXPECT_TRUE(held());
  // The second wave's hosts were not touched while paused.
  EXPECT_EQ(RoutedOn(w, "h2"), std::set<int>{1});
  EXPECT_EQ(RoutedOn(w, "h3"), std::set<int>{1});

  auto resumed = w.engine().Control({"web", "resume", false, "test"});
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
  ExpectEveryHostRoutes(w, 2);
}

TEST(FleetControl, AnAbortOfAFleetDeploymentReturnsEverySwitchedHostAndMarksTheVersionBad) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, "v1");
  w.hosts().target("h2").HoldStarts(true);
  auto o = w.Apply(kFleet, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  // h1 (the first wave) switched; h2 is starting v2 in the second wave.
  ASSERT_TRUE(w.hosts().target("h2").WaitForHeldStart(EngineWorld::kRealDeadline));
  EXPECT_EQ(RoutedOn(w, "h1"), std::set<int>{2});
  auto aborted = w.engine().Control({"web", "abort", false, "alice"});
  ASSERT_TRUE(aborted.ok()) << aborted.error().message;
  w.hosts().target("h2").HoldStarts(false);
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kRolledBack) << d.reason;
  EXPECT_EQ(d.reason, "aborted by alice");
  Deployment rb = w.WaitSettled(Newest(w));
  EXPECT_EQ(rb.kind, DeploymentKind::kRollback);
  EXPECT_EQ(rb.actor, "alice");
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  ExpectEveryHostRoutes(w, 1);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
}

TEST(FleetControl, ARollforwardAfterAFleetRollbackReturnsEveryHostToTheNewerVersion) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, "v1");
  Deploy(w, "v2");
  RollRequest back;
  back.app = "web";
  back.actor = "test";
  auto o = w.engine().Rollback(back);
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
  ExpectEveryHostRoutes(w, 1);

  RollRequest forward;
  forward.app = "web";
  forward.actor = "test";
  forward.force = true;  // v2 was marked bad by the rollback
  auto f = w.engine().Rollforward(forward);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->version, 2);
  Deployment d = w.WaitSettled(f->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  EXPECT_EQ(d.kind, DeploymentKind::kRollforward);
  EXPECT_EQ(HostsOf(d), (std::vector<std::string>{"h1", "h2", "h3"}));
  ExpectEveryHostRoutes(w, 2);
  EXPECT_EQ(w.SlotVersion(), 2);
}

TEST(FleetControl, APromoteOfAnOldVersionDeploysItsContentToEveryHostAsANewVersion) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, "v1");
  Deploy(w, "v2");
  auto o = w.engine().Promote({"web", 1, false, "test"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->version, 3);
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  EXPECT_EQ(HostsOf(d), (std::vector<std::string>{"h1", "h2", "h3"}));
  ExpectEveryHostRoutes(w, 3);
  EXPECT_EQ(w.SlotVersion(), 3);
}

}  // namespace
}  // namespace lastgood::fleet_control
