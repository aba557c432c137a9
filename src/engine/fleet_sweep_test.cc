#include <gtest/gtest.h>

#include "testutil/engine_world.h"
#include "testutil/fleet_world.h"

// The start-up sweep on fleet hosts (engine/recover.cc): what a host runs that no record
// shows is stopped — at start for the hosts that answer, and for a host that could not be
// reached then, once it answers again.
namespace lastgood {
namespace {

using testutil::Deploy;
using testutil::EngineWorld;
using testutil::ThreeHosts;
using testutil::WaitUntil;
using testutil::WorldManifest;

constexpr const char* kStray = "web-production-v1-h3-stray";

// A controller that died between asking h3's node to start an instance and recording it:
// h3 runs one instance no record shows.
void LeaveAStrayOnH3(EngineWorld& w) {
  ThreeHosts(w);
  Deploy(w, WorldManifest("strategy: { type: rolling }\n", "hosts: [h1, h2, h3]\n"), "v1");
  InstanceSpec spec;
  spec.id = kStray;
  ASSERT_TRUE(w.hosts().target("h3").Start(spec).ok());
}

TEST(FleetSweep, AStrayOnAHostUnreachableAtStartIsStoppedOnceItAnswersAndItsRecordsStay) {
  EngineWorld w;
  LeaveAStrayOnH3(w);
  w.Stop();
  w.hosts().Cut("h3", "ssh: connect to host 10.0.0.7 port 22: Connection timed out");
  w.Start();
  w.engine().Housekeep();
  EXPECT_EQ(w.hosts().target("h3").Alive().count(kStray), 1u) << "h3 cannot be asked yet";

  w.hosts().Mend("h3");
  ASSERT_TRUE(WaitUntil(
      [&] {
        w.engine().Housekeep();
        return w.hosts().target("h3").Alive().count(kStray) == 0;
      },
      EngineWorld::kRealDeadline, std::chrono::milliseconds(5)))
      << "the stray on h3 still runs once h3 answers again";
  // What the records show runs on: h3's two instances of v1, adopted, not stopped.
  EXPECT_EQ(w.hosts().target("h3").Alive().size(), 2u);
  auto instances = w.sqlite().ListInstances("web");
  ASSERT_TRUE(instances.ok());
  int on_h3 = 0;
  for (const auto& i : *instances) on_h3 += i.host == "h3" ? 1 : 0;
  EXPECT_EQ(on_h3, 2);
}

TEST(FleetSweep, TheSweepOfAReturnedHostWaitsForTheDeploymentThatRuns) {
  EngineWorld w;
  LeaveAStrayOnH3(w);
  w.Stop();
  w.hosts().Cut("h3");
  w.Start();
  const std::string manifest = WorldManifest("strategy: { type: rolling }\n", "hosts: [h1, h2]\n");
  w.hosts().target("h1").HoldStarts(true);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.hosts().target("h1").WaitForHeldStart(EngineWorld::kRealDeadline));
  w.hosts().Mend("h3");
  w.engine().Housekeep();
  EXPECT_EQ(w.hosts().target("h3").Alive().count(kStray), 1u) << "swept under a deployment";
  w.hosts().target("h1").HoldStarts(false);
  w.WaitSettled(o->deployment);
  EXPECT_TRUE(WaitUntil(
      [&] {
        w.engine().Housekeep();
        return w.hosts().target("h3").Alive().count(kStray) == 0;
      },
      EngineWorld::kRealDeadline, std::chrono::milliseconds(5)));
}

TEST(FleetSweep, AStrayOnAHostReachableAtStartIsStoppedByTheStartItself) {
  EngineWorld w;
  LeaveAStrayOnH3(w);
  w.Restart();
  EXPECT_EQ(w.hosts().target("h3").Alive().count(kStray), 0u);
  EXPECT_EQ(w.hosts().target("h3").Alive().size(), 2u);
}

}  // namespace
}  // namespace lastgood
