#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "engine/executor.h"
#include "engine/fleet_record.h"
#include "engine/slot_instances.h"
#include "history/reasons.h"
#include "testutil/engine_world.h"
#include "testutil/fleet_world.h"

// Fleet deployments (docs/fleets.md) driven through the Engine, each host a FakeTarget and a
// FakeRouter (tests/testutil/fake_hosts.h): waves, hosts in parallel, failed and unreachable
// hosts, the automatic rollback of the switched hosts, a restart in the middle.
namespace lastgood {
namespace {

using testutil::Deploy;
using testutil::EngineWorld;
using testutil::LiveOn;
using testutil::RoutedOn;
using testutil::Stage;
using testutil::SwapOf;
using testutil::ThreeHosts;
using testutil::WaitUntil;
using testutil::WorldManifest;

constexpr const char* kFleetRolling =
    "strategy: { type: rolling, rolling: { maxSurge: 1, maxUnavailable: 0 } }\n";

std::string Fleet(const std::string& hosts, const std::string& extra = "") {
  return WorldManifest(kFleetRolling, "hosts: " + hosts + "\n" + extra);
}

TEST(FleetExecutor, AFleetDeploymentRunsTheStrategyOnEverySelectedHostAndRecordsEachHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("{ selector: { role: web } }", "waves: [1, 100%]\n");
  Deploy(w, manifest, "v1");
  const std::string name = Deploy(w, manifest, "v2");
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{2, 2}})) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
    EXPECT_EQ(w.hosts().target(h).Alive().size(), 2u) << h;
  }
  // Nothing runs on the controller's machine, and its router does not carry the app.
  EXPECT_TRUE(w.target().Alive().empty());
  EXPECT_TRUE(w.Routed().empty());
  EXPECT_EQ(w.SlotVersion(), 2);
  Deployment d = w.Record(name);
  EXPECT_EQ(HostsOf(d), (std::vector<std::string>{"h1", "h2", "h3"}));
  EXPECT_EQ(HostsOf(d, 1), (std::vector<std::string>{"h1"}));
  EXPECT_EQ(HostsOf(d, 2), (std::vector<std::string>{"h2", "h3"}));
  for (const auto& op : d.operations) {
    EXPECT_EQ(op.state, OperationState::kSucceeded) << op.host << " " << op.step;
    if (op.step == "mark v2 as running in the slot") {
      EXPECT_EQ(op.host, "");
    }
  }
  // Each host's table holds its own instances only.
  auto table = w.hosts().router("h2").Table();
  ASSERT_TRUE(table.has_value());
  for (const auto& app : table->apps) {
    for (const auto& s : app.slots) {
      for (const auto& v : s.versions) {
        for (const auto& b : v.backends) {
          EXPECT_NE(b.id.find("-h2-"), std::string::npos) << b.id;
        }
      }
    }
  }
}

TEST(FleetExecutor, AnArtifactGoesToEachHostOnce) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2]");
  Deploy(w, manifest, "v1");
  EXPECT_EQ(w.hosts().Pushes("h1"), 0);  // the world's manifest has no artifact
  EXPECT_EQ(LiveOn(w, "h3"), (std::map<int, int>{}));
}

TEST(FleetExecutor, AnUnreachableHostWithinMaxFailedHostsIsAFailedHostAndTheRestGoOn) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2, h3]", "maxFailedHosts: 1\n");
  Deploy(w, manifest, "v1");
  w.hosts().Cut("h3", "ssh: connect to host 10.0.0.7 port 22: No route to host");
  const std::string name = Deploy(w, manifest, "v2");
  EXPECT_EQ(RoutedOn(w, "h1"), std::set<int>{2});
  EXPECT_EQ(RoutedOn(w, "h2"), std::set<int>{2});
  // h3 keeps serving what it served.
  EXPECT_EQ(RoutedOn(w, "h3"), std::set<int>{1});
  EXPECT_EQ(w.hosts().target("h3").Alive().size(), 2u);
  Deployment d = w.Record(name);
  auto failed = FailedHosts(d);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed["h3"].find("host h3 is unreachable: ssh: connect to host 10.0.0.7"),
            std::string::npos)
      << failed["h3"];
}

TEST(FleetExecutor, MoreFailedHostsThanToleratedFailTheDeploymentAndTheSwitchedHostsReturn) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      Fleet("[h1, h2, h3]", "waves: [1, 2, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  // v2 cannot start on h2 (the second wave): h1 was switched already.
  w.hosts().target("h2").FailStarts(true);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.reason.find("1 of 3 hosts failed (maxFailedHosts 0): h2: "), std::string::npos)
      << d.reason;
  // h3's wave never started.
  for (const auto& op : d.operations) {
    if (op.host == "h3" && op.step != "prepare the release of v2") {
      EXPECT_EQ(op.state, OperationState::kSkipped) << op.step;
    }
  }
  auto rollback = w.engine().FollowUp("web", o->deployment);
  ASSERT_TRUE(rollback.has_value());
  Deployment rb = w.WaitSettled(*rollback);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  EXPECT_EQ(rb.trigger, Trigger::kAuto);
  // The rollback acts on the hosts that were switched, h1 first (h2 had only started one).
  auto hosts = HostsOf(rb);
  ASSERT_FALSE(hosts.empty());
  EXPECT_EQ(hosts.front(), "h1");
  EXPECT_EQ(std::count(hosts.begin(), hosts.end(), "h3"), 0);
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{1, 2}})) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  }
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
}

TEST(FleetExecutor, AManualRollbackRevertsTheFleetInTheReverseOrderOfSwitching) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      Fleet("[h1, h2, h3]", "waves: [1, 2, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  Deploy(w, manifest, "v2");
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  auto o = w.engine().Rollback(req);
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment rb = w.WaitSettled(o->deployment);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  EXPECT_EQ(HostsOf(rb), (std::vector<std::string>{"h3", "h2", "h1"}));
  // Wave by wave, the last wave's first: h1 only once h2 and h3 are back.
  EXPECT_EQ(HostsOf(rb, 1), (std::vector<std::string>{"h3"}));
  EXPECT_EQ(HostsOf(rb, 3), (std::vector<std::string>{"h1"}));
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
    // v1 came back from its warm instances: nothing new was started for it.
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{1, 2}})) << h;
  }
  EXPECT_EQ(w.SlotVersion(), 1);
}

// The steps of the record on `host`, by kind ("prepare", "takeWarm", "start", ...).
std::vector<std::string> StepsOn(const Deployment& d, const std::string& host) {
  std::vector<std::string> out;
  for (const auto& op : d.operations) {
    if (op.host != host) continue;
    std::string spec = op.spec;
    auto at = spec.find("\"op\":\"") + 6;
    out.push_back(spec.substr(at, spec.find('"', at) - at));
  }
  return out;
}

TEST(FleetExecutor, AWarmFleetRollbackPreparesNoReleaseAndStartsNothingOnItsWarmHosts) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      Fleet("[h1, h2, h3]", "waves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  Deploy(w, manifest, "v2");
  std::map<std::string, int> starts;
  for (const char* h : {"h1", "h2", "h3"}) starts[h] = w.hosts().target(h).Starts();
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  auto o = w.engine().Rollback(req);
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment rb = w.WaitSettled(o->deployment);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  for (const char* h : {"h1", "h2", "h3"}) {
    // One step: the table change to v1's warm instances, which the node confirmed running.
    EXPECT_EQ(StepsOn(rb, h), std::vector<std::string>{"takeWarm"}) << h;
    EXPECT_EQ(w.hosts().target(h).Starts(), starts[h]) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{1, 2}})) << h;
  }
}

TEST(FleetExecutor, AHostWhoseWarmInstanceDiedIsStartedAnewInAWarmFleetRollback) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      Fleet("[h1, h2, h3]", "waves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  Deploy(w, manifest, "v2");
  // One of h2's warm v1 instances died; the store still holds it warm.
  auto all = w.sqlite().ListInstances("web");
  ASSERT_TRUE(all.ok());
  for (const auto& i : *all) {
    if (i.host == "h2" && i.version == 1 && i.state == InstanceState::kWarm) {
      w.hosts().target("h2").Kill(i.id);
      break;
    }
  }
  const int h2_starts = w.hosts().target("h2").Starts();
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  auto o = w.engine().Rollback(req);
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment rb = w.WaitSettled(o->deployment);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  std::string detail;
  for (const auto& op : rb.operations) {
    if (op.host == "h2") detail += op.detail;
  }
  EXPECT_NE(detail.find("not all warm any more"), std::string::npos) << detail;
  EXPECT_GT(w.hosts().target("h2").Starts(), h2_starts);
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{1, 2}})) << h;
  }
}

TEST(FleetExecutor, ARollbackReturnsTheHostsOfOneWaveTogetherTheLastWaveFirst) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      Fleet("[h1, h2, h3]", "waves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  Deploy(w, manifest, "v2");
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  auto o = w.engine().Rollback(req);
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment rb = w.WaitSettled(o->deployment);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  auto last_wave = HostsOf(rb, 1);
  std::sort(last_wave.begin(), last_wave.end());
  EXPECT_EQ(last_wave, (std::vector<std::string>{"h2", "h3"}));
  EXPECT_EQ(HostsOf(rb, 2), (std::vector<std::string>{"h1"}));
  // h1 was not touched before both of the last wave's hosts were done.
  int64_t last_wave_done = 0, h1_started = INT64_MAX;
  for (const auto& op : rb.operations) {
    auto step = StepFromJson(op.spec);
    if (!step.ok() || step->op == Step::Op::kPrepare || op.host.empty()) continue;
    if (op.host == "h1") h1_started = std::min(h1_started, op.startedAt);
    if (op.host != "h1") last_wave_done = std::max(last_wave_done, op.finishedAt);
  }
  EXPECT_LE(last_wave_done, h1_started);
}

TEST(FleetExecutor, MaxParallelBoundsTheHostsUpdatedAtOnce) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2, h3]", "maxParallel: 1\n");
  Deploy(w, manifest, "v1");
  for (const char* h : {"h1", "h2", "h3"}) w.hosts().target(h).HoldStarts(true);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.hosts().target("h1").WaitForHeldStart(EngineWorld::kRealDeadline));
  // While h1 is held, no other host starts anything.
  EXPECT_FALSE(w.hosts().target("h2").WaitForHeldStart(std::chrono::milliseconds(200)));
  EXPECT_FALSE(w.hosts().target("h3").WaitForHeldStart(std::chrono::milliseconds(1)));
  for (const char* h : {"h1", "h2", "h3"}) w.hosts().target(h).HoldStarts(false);
  EXPECT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
}

TEST(FleetExecutor, ARestartedControllerResumesAFleetDeploymentAndSwitchesNoHostTwice) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2, h3]", "waves: [1, 100%]\n");
  Deploy(w, manifest, "v1");
  w.hosts().target("h2").HoldStarts(true);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.hosts().target("h2").WaitForHeldStart(EngineWorld::kRealDeadline));
  const int h1_starts = w.hosts().target("h1").Starts();
  // The controller stops while h2 is starting v2; its record stays Running.
  std::thread stop([&] { w.Stop(); });
  // The step under way must end for the worker to stop at its check point.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  w.hosts().target("h2").HoldStarts(false);
  stop.join();
  EXPECT_EQ(w.Record(o->deployment).state, DeploymentState::kRunning);
  w.Start();
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  // h1's wave was done: the resumed deployment started nothing more there.
  EXPECT_EQ(w.hosts().target("h1").Starts(), h1_starts);
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{2, 2}})) << h;
    EXPECT_EQ(w.hosts().target(h).Alive().size(), 2u) << h;
  }
}

// A controller that dies between asking h2's node to start an instance and recording it
// leaves an instance no record shows: the next controller stops it (as it does on its own
// machine) and the resumed deployment starts what it needs, so h2 runs v2's two, no third.
TEST(FleetExecutor, AnInstanceAHostStartedForAControllerThatDiedBeforeRecordingItIsStopped) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2, h3]", "waves: [1, 2, 100%]\n");
  Deploy(w, manifest, "v1");
  w.hosts().target("h2").HoldStarts(true);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.hosts().target("h2").WaitForHeldStart(EngineWorld::kRealDeadline));
  // h1's v1 instances, out of its table, are stopped and forgotten by the drainer: its
  // deletes would be the next commits otherwise, and the crash would freeze h2's node
  // before it started anything.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto all = w.sqlite().ListInstances("web");
        return all.ok() && std::none_of(all->begin(), all->end(), [](const InstanceRecord& i) {
                 return i.state == InstanceState::kDraining;
               });
      },
      EngineWorld::kRealDeadline, std::chrono::milliseconds(1)));
  // The next commit, the record of the instance h2 is starting now (alone in its wave),
  // never happens.
  w.CrashAfter(0);
  w.hosts().target("h2").HoldStarts(false);
  ASSERT_TRUE(WaitUntil([&] { return w.Crashed(); }, EngineWorld::kRealDeadline,
                        std::chrono::milliseconds(1)));
  w.CleanUpAfterCrash();
  ASSERT_EQ(w.hosts().target("h2").Alive().size(), 3u) << "the fault did not leave a stray";
  w.Start();
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{2, 2}})) << h;
    EXPECT_EQ(w.hosts().target(h).Alive().size(), 2u) << h;
  }
}

TEST(FleetExecutor, AManifestNamingAnUnregisteredHostIsRefusedBeforeAnyVersionIsMade) {
  EngineWorld w;
  ThreeHosts(w);
  auto o = w.Apply(Fleet("[h1, web9]"), "v1");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, ErrorCode::kNotFound);
  EXPECT_NE(o.error().message.find("web9"), std::string::npos) << o.error().message;
  auto versions = w.sqlite().ListVersions("web");
  EXPECT_TRUE(!versions.ok() || versions->empty());
}

// Instances on record on `host` in `slot` that are alive (warm ones included), by version.
std::map<int, int> InSlotOn(EngineWorld& w, const std::string& host, const std::string& slot) {
  std::map<int, int> out;
  auto all = w.sqlite().ListInstances("web");
  if (!all.ok()) return out;
  for (const auto& i : *all) {
    if (i.host == host && i.slot == slot && IsLive(i)) ++out[i.version];
  }
  return out;
}

TEST(FleetExecutor, ASwapOfAFleetAppSwitchesHostByHostAndASecondSwapReturnsEveryHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2]");
  Deploy(w, manifest, "v1");
  Stage(w, manifest, "v2");
  SwapRequest swap = SwapOf();
  auto swapped = w.engine().Swap(swap);
  ASSERT_TRUE(swapped.ok()) << swapped.error().message;
  Deployment d = w.WaitSettled(swapped->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  for (const char* h : {"h1", "h2"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
  EXPECT_EQ(w.SlotVersion(), 2);
  EXPECT_EQ(w.SlotVersion("staging"), 1);
  // One switch per host, one after the other, each with its own time in the record.
  std::vector<const Operation*> switches;
  for (const auto& op : d.operations) {
    if (op.step.rfind("switch", 0) == 0) switches.push_back(&op);
  }
  ASSERT_EQ(switches.size(), 2u);
  EXPECT_EQ(switches[0]->host, "h1");
  EXPECT_EQ(switches[1]->host, "h2");
  EXPECT_LE(switches[0]->finishedAt, switches[1]->startedAt);
  EXPECT_NE(switches[0]->detail.find("slots exchanged in the store"), std::string::npos)
      << switches[0]->detail;
  EXPECT_NE(switches[1]->detail.find("production runs v2 on h2"), std::string::npos)
      << switches[1]->detail;

  auto back = w.engine().Swap(swap);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(w.WaitSettled(back->deployment).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  EXPECT_EQ(w.SlotVersion(), 1);
}

TEST(FleetExecutor, ASwapThatWouldLeaveAHostBehindIsRefusedAndChangesNothing) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, Fleet("[h1, h2]"), "v1");
  // Staging runs on h1 alone: swapped, h2's production would serve nothing.
  Stage(w, Fleet("[h1]"), "v2");
  const int applied = w.hosts().router("h2").Applied();
  SwapRequest swap = SwapOf();
  auto refused = w.engine().Swap(swap);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(refused.error().message.find("h2"), std::string::npos) << refused.error().message;
  // An unreachable host is never left behind, whatever the phase.
  Deploy(w, Fleet("[h1, h2]"), "v3");
  Stage(w, Fleet("[h1, h2]"), "v4");
  w.hosts().Cut("h2");
  swap.phase = "preview";
  auto preview = w.engine().Swap(swap);
  ASSERT_FALSE(preview.ok());
  EXPECT_EQ(preview.error().code, ErrorCode::kUnavailable);
  swap.phase = "swap";
  auto cut = w.engine().Swap(swap);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(cut.error().message.find("h2"), std::string::npos) << cut.error().message;
  EXPECT_EQ(w.SlotVersion(), 3);
  EXPECT_EQ(RoutedOn(w, "h1"), std::set<int>{3});
  EXPECT_GE(w.hosts().router("h2").Applied(), applied);
}

// A fleet app whose sticky REGION is its label: production's and staging's settings differ.
std::string StickyFleet() {
  return "app: web\n"
         "parameters:\n  label: { default: v1 }\n"
         "run:\n  command: [./web, --label, '${params.label}']\n"
         "  env:\n    REGION: { value: '${params.label}', sticky: true }\n"
         "replicas: 2\n"
         "route: { listen: 127.0.0.1:18080 }\n"
         "progressDeadline: 10s\n" +
         std::string(kFleetRolling) + "hosts: [h1, h2]\n";
}

// Whose settings `host`'s live instances of `version` run with, each once.
std::set<std::string> SettingsOn(EngineWorld& w, const std::string& host, int version) {
  std::set<std::string> out;
  auto all = w.sqlite().ListInstances("web");
  if (!all.ok()) return out;
  for (const auto& i : *all) {
    if (i.host == host && i.version == version && IsLive(i)) out.insert(i.settings);
  }
  return out;
}

std::string SwapPending(EngineWorld& w) {
  auto slots = w.sqlite().ListSlots("web");
  if (!slots.ok()) return "?";
  for (const auto& s : *slots) {
    if (s.slot == "production") return s.swapPending;
  }
  return "?";
}

TEST(FleetExecutor, ASwapPreviewOnEveryHostIsCanceledOrCompletedHostByHost) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, StickyFleet(), "v1");
  Stage(w, StickyFleet(), "v2");
  SwapRequest swap = SwapOf();

  // Preview: staging takes production's settings on every host; production is untouched.
  swap.phase = "preview";
  auto preview = w.engine().Swap(swap);
  ASSERT_TRUE(preview.ok()) << preview.error().message;
  Deployment p = w.WaitSettled(preview->deployment);
  EXPECT_EQ(p.state, DeploymentState::kSucceeded) << p.reason;
  EXPECT_EQ(HostsOf(p, 1), (std::vector<std::string>{"h1", "h2"}));
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(SettingsOn(w, h, 2), std::set<std::string>{"production"}) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  }
  EXPECT_EQ(SwapPending(w), "staging");

  // Cancel: staging's own settings back on every host.
  swap.phase = "cancel";
  auto cancel = w.engine().Swap(swap);
  ASSERT_TRUE(cancel.ok()) << cancel.error().message;
  EXPECT_EQ(w.WaitSettled(cancel->deployment).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(SettingsOn(w, h, 2), std::set<std::string>{"staging"}) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  }
  EXPECT_EQ(SwapPending(w), "");

  // Preview again, then complete: the switch goes host by host.
  swap.phase = "preview";
  auto again = w.engine().Swap(swap);
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_EQ(w.WaitSettled(again->deployment).state, DeploymentState::kSucceeded);
  swap.phase = "complete";
  auto complete = w.engine().Swap(swap);
  ASSERT_TRUE(complete.ok()) << complete.error().message;
  Deployment c = w.WaitSettled(complete->deployment);
  EXPECT_EQ(c.state, DeploymentState::kSucceeded) << c.reason;
  std::vector<std::string> switched;
  for (const auto& op : c.operations) {
    auto step = StepFromJson(op.spec);
    if (step.ok() && step->op == Step::Op::kSwitch) switched.push_back(op.host);
  }
  EXPECT_EQ(switched, (std::vector<std::string>{"h1", "h2"}));
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
    EXPECT_EQ(SettingsOn(w, h, 2), std::set<std::string>{"production"}) << h;
    // What production ran went to staging and took staging's settings.
    EXPECT_EQ(SettingsOn(w, h, 1), std::set<std::string>{"staging"}) << h;
  }
  EXPECT_EQ(w.SlotVersion(), 2);
  EXPECT_EQ(SwapPending(w), "");
}

TEST(FleetExecutor, ASwapPreviewFailingOnAHostIsFinishedByAnotherPreviewAndCanceled) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, StickyFleet(), "v1");
  Stage(w, StickyFleet(), "v2");
  SwapRequest swap = SwapOf("preview");
  // h2 cannot start the instances with production's settings: the preview fails there.
  w.hosts().target("h2").FailStarts(true);
  auto failed = w.engine().Swap(swap);
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  Deployment f = w.WaitSettled(failed->deployment);
  EXPECT_EQ(f.state, DeploymentState::kFailed);
  EXPECT_NE(f.reason.find("h2: "), std::string::npos) << f.reason;
  EXPECT_EQ(SwapPending(w), "");
  for (const char* h : {"h1", "h2"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  // The same preview again finishes it; a cancel returns every host.
  w.hosts().target("h2").FailStarts(false);
  auto again = w.engine().Swap(swap);
  ASSERT_TRUE(again.ok()) << again.error().message;
  Deployment a = w.WaitSettled(again->deployment);
  EXPECT_EQ(a.state, DeploymentState::kSucceeded) << a.reason;
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(SettingsOn(w, h, 2), std::set<std::string>{"production"}) << h;
  }
  EXPECT_EQ(SwapPending(w), "staging");
  swap.phase = "cancel";
  auto cancel = w.engine().Swap(swap);
  ASSERT_TRUE(cancel.ok()) << cancel.error().message;
  EXPECT_EQ(w.WaitSettled(cancel->deployment).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(SettingsOn(w, h, 2), std::set<std::string>{"staging"}) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  }
}

TEST(FleetExecutor, ASwapFailingPartwayNamesTheHostsSwitchedAndASwapAgainReturnsEveryHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2, h3]");
  Deploy(w, manifest, "v1");
  Stage(w, manifest, "v2");
  // h2's router takes no new table: h1 switches, h2 fails, h3 is never reached.
  w.hosts().router("h2").RefuseTables(true);
  SwapRequest swap = SwapOf();
  auto o = w.engine().Swap(swap);
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  std::map<std::string, OperationState> switch_of;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    if (step.ok() && step->op == Step::Op::kSwitch) switch_of[op.host] = op.state;
    if (step.ok() && step->op == Step::Op::kSwitch && op.host == "h2") {
      EXPECT_NE(op.detail.find("the router did not take the new table"), std::string::npos)
          << op.detail;
    }
  }
  EXPECT_EQ(switch_of["h1"], OperationState::kSucceeded);
  EXPECT_EQ(switch_of["h2"], OperationState::kFailed);
  EXPECT_EQ(switch_of["h3"], OperationState::kSkipped);
  EXPECT_NE(d.reason.find("h2: "), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("switched: h1; not switched: h2, h3"), std::string::npos) << d.reason;
  EXPECT_EQ(RoutedOn(w, "h1"), std::set<int>{2});
  EXPECT_EQ(RoutedOn(w, "h2"), std::set<int>{1});
  EXPECT_EQ(RoutedOn(w, "h3"), std::set<int>{1});

  // The same command again, the router mended: every host serves one version, the one the
  // store says production runs.
  w.hosts().router("h2").RefuseTables(false);
  auto again = w.engine().Swap(swap);
  ASSERT_TRUE(again.ok()) << again.error().message;
  Deployment a = w.WaitSettled(again->deployment);
  EXPECT_EQ(a.state, DeploymentState::kSucceeded) << a.reason;
  const int production = w.SlotVersion();
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{production}) << h;
    EXPECT_EQ(InSlotOn(w, h, "production"), (std::map<int, int>{{production, 2}})) << h;
  }
}

TEST(FleetExecutor, AnAutoSwapRefusedBecauseAHostIsUnreachableIsRecordedWithItsReason) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, Fleet("[h1, h2]"), "v1");
  w.hosts().Cut("h2", "ssh: connect to host 10.0.0.6 port 22: No route to host");
  // Staging within maxFailedHosts succeeds on h1; its autoSwap would leave h2 behind.
  auto staged =
      w.Apply(Fleet("[h1, h2]", "maxFailedHosts: 1\nslots: { staging: { autoSwap: true } }\n"),
              "v2", "staging");
  ASSERT_TRUE(staged.ok()) << staged.error().message;
  Deployment d = w.WaitSettled(staged->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  EXPECT_FALSE(w.engine().FollowUp("web", staged->deployment).has_value());
  EXPECT_NE(d.reason.find("autoSwap into production refused: host h2 runs web and cannot be "
                          "reached (ssh: connect to host 10.0.0.6"),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(w.Record(staged->deployment).reason, d.reason);
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(RoutedOn(w, "h1"), std::set<int>{1});
}

// The share of production's new clients that staging takes, on `host`'s router.
int StagingShareOn(EngineWorld& w, const std::string& host) {
  auto table = w.hosts().router(host).Table();
  if (!table) return -1;
  for (const auto& app : table->apps) {
    auto it = app.split.find("staging");
    if (app.name == "web") return it == app.split.end() ? 0 : it->second;
  }
  return -1;
}

TEST(FleetExecutor, TrafficSharesOfAFleetAppAreInForceOnEveryHostsRouter) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2]");
  Deploy(w, manifest, "v1");
  Stage(w, manifest, "v2");

  TrafficRequest traffic;
  traffic.app = "web";
  traffic.shares = {{"staging", 10}};
  traffic.actor = "test";
  auto shared = w.engine().SetTraffic(traffic);
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  EXPECT_NE(shared->message.find("2 hosts"), std::string::npos) << shared->message;
  EXPECT_EQ(StagingShareOn(w, "h1"), 10);
  EXPECT_EQ(StagingShareOn(w, "h2"), 10);

  // A host that runs the app and cannot be reached: nothing changes anywhere.
  w.hosts().Cut("h2");
  traffic.shares = {{"staging", 30}};
  auto refused = w.engine().SetTraffic(traffic);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("h2"), std::string::npos) << refused.error().message;
  EXPECT_EQ(w.Slot("staging")->weight, 10);
  EXPECT_EQ(StagingShareOn(w, "h1"), 10);
}

TEST(FleetExecutor, TheTrafficOfAFleetAppIsItsHostsRoutersCountsAddedUp) {
  EngineWorld w;
  ThreeHosts(w);
  Deploy(w, Fleet("[h1, h2]"), "v1");
  w.hosts().router("h1").SetTraffic("web", "production", 1, 1000, 10);
  w.hosts().router("h2").SetTraffic("web", "production", 1, 500, 5);
  // h3 runs nothing of web: its router's counts are not the app's.
  w.hosts().router("h3").SetTraffic("web", "production", 1, 7000, 7000);
  auto stats = w.engine().Traffic("web", std::chrono::seconds(10));
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  ASSERT_EQ(stats->rows.size(), 1u);
  EXPECT_EQ(stats->rows[0].requests, 1500u);
  EXPECT_EQ(stats->rows[0].responses5xx, 15u);
}

// The value of `name` in the environment every live instance of `host` was started with.
std::set<std::string> EnvOn(EngineWorld& w, const std::string& host, const std::string& name) {
  std::set<std::string> out;
  for (const auto& id : w.hosts().target(host).Alive()) {
    InstanceSpec spec = w.hosts().target(host).SpecOf(id);
    for (const auto& [k, v] : spec.env) {
      if (k != name) continue;
      // A secret is sent marked verbatim: the node neither expands it nor keeps it in clear.
      bool verbatim = std::count(spec.verbatimEnv.begin(), spec.verbatimEnv.end(), k) > 0;
      out.insert(verbatim ? v : "(not verbatim) " + v);
    }
  }
  return out;
}

TEST(FleetExecutor, ASecretReachesTheInstancesOfEveryHostAndARotationReachesThemOnTheNextApply) {
  EngineWorld w;
  ThreeHosts(w);
  ASSERT_TRUE(w.secrets().Set("web", "db-password", "first-value", "local:root").ok());
  std::string manifest = Fleet("[h1, h2]");
  const std::string run = "run:\n  command: [./web, --label, '${params.label}']\n";
  manifest.replace(manifest.find(run), run.size(),
                   run + "  env:\n    DB_PASSWORD: { secret: db-password }\n");
  Deploy(w, manifest, "v1");
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(EnvOn(w, h, "DB_PASSWORD"), std::set<std::string>{"first-value"}) << h;
  }
  EXPECT_TRUE(w.hosts().target("h3").Alive().empty());

  // `lastgood secret set` then the same manifest again: a new version restarts them.
  w.clock().Advance(std::chrono::seconds(5));
  ASSERT_TRUE(w.secrets().Set("web", "db-password", "second-value", "local:root").ok());
  auto o = w.Apply(manifest, "v1");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_NE(o->message.find("secret db-password was set after"), std::string::npos) << o->message;
  EXPECT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(EnvOn(w, h, "DB_PASSWORD"), std::set<std::string>{"second-value"}) << h;
  }
}

// The newest deployment of web of `kind`, if any.
std::optional<Deployment> Newest(EngineWorld& w, DeploymentKind kind) {
  auto all = w.sqlite().ListDeployments("web", 20);
  if (!all.ok()) return std::nullopt;
  for (const auto& d : *all) {
    if (d.kind == kind) return w.Record(d.name);
  }
  return std::nullopt;
}

TEST(FleetExecutor, AHostBackFromBeingUnreachableIsReconciledAloneToProductionsVersion) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2, h3]", "maxFailedHosts: 1\n");
  Deploy(w, manifest, "v1");
  w.hosts().Cut("h3", "ssh: connect to host 10.0.0.7 port 22: Connection timed out");
  w.engine().Housekeep();  // the controller sees h3 gone
  Deploy(w, manifest, "v2");
  EXPECT_EQ(RoutedOn(w, "h3"), std::set<int>{1});
  const int h1_starts = w.hosts().target("h1").Starts();
  w.engine().Housekeep();  // still unreachable: nothing to do
  EXPECT_FALSE(Newest(w, DeploymentKind::kReconcile).has_value());

  w.hosts().Mend("h3");
  // Upkeep passes over an app whose worker has not ended yet (its record may be final a
  // moment before): the host stays noted as returned, and a later upkeep reconciles it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        w.engine().Housekeep();
        return Newest(w, DeploymentKind::kReconcile).has_value();
      },
      EngineWorld::kRealDeadline, std::chrono::milliseconds(5)));
  auto reconcile = Newest(w, DeploymentKind::kReconcile);
  Deployment d = w.WaitSettled(reconcile->name);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  EXPECT_EQ(d.trigger, Trigger::kAuto);
  EXPECT_EQ(d.version, 2);
  EXPECT_NE(d.reason.find("host h3 was unreachable"), std::string::npos) << d.reason;
  EXPECT_EQ(HostsOf(d), (std::vector<std::string>{"h3"}));
  EXPECT_EQ(RoutedOn(w, "h3"), std::set<int>{2});
  EXPECT_EQ(LiveOn(w, "h3"), (std::map<int, int>{{2, 2}}));
  EXPECT_EQ(w.hosts().target("h1").Starts(), h1_starts);  // no other host touched
  EXPECT_EQ(w.VerdictOf(2), Verdict::kGood);
  EXPECT_EQ(w.SlotVersion(), 2);
  // Once: the next upkeep starts nothing more.
  w.engine().Housekeep();
  EXPECT_EQ(Newest(w, DeploymentKind::kReconcile)->name, d.name);
}

TEST(FleetExecutor, AReturnedHostWaitsForTheAppsRunningDeploymentBeforeItsReconcile) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = Fleet("[h1, h2, h3]", "maxFailedHosts: 1\n");
  Deploy(w, manifest, "v1");
  w.hosts().Cut("h3");
  w.engine().Housekeep();
  Deploy(w, manifest, "v2");
  // v3 is being deployed (held on h1) when h3 comes back.
  w.hosts().target("h1").HoldStarts(true);
  auto v3 = w.Apply(manifest, "v3");
  ASSERT_TRUE(v3.ok()) << v3.error().message;
  ASSERT_TRUE(w.hosts().target("h1").WaitForHeldStart(EngineWorld::kRealDeadline));
  w.hosts().Mend("h3");
  w.engine().Housekeep();
  EXPECT_FALSE(Newest(w, DeploymentKind::kReconcile).has_value());
  w.hosts().target("h1").HoldStarts(false);
  EXPECT_EQ(w.WaitSettled(v3->deployment).state, DeploymentState::kSucceeded);
  // Once v3's deployment has ended (h3 failed in it: it was cut off when it prepared), h3 is
  // brought to v3.
  ASSERT_TRUE(WaitUntil(
      [&] {
        w.engine().Housekeep();
        return Newest(w, DeploymentKind::kReconcile).has_value();
      },
      EngineWorld::kRealDeadline));
  Deployment d = w.WaitSettled(Newest(w, DeploymentKind::kReconcile)->name);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  EXPECT_EQ(d.version, 3);
  EXPECT_EQ(RoutedOn(w, "h3"), std::set<int>{3});
}

TEST(FleetExecutor, ABlueGreenFleetDeploymentBringsEveryWaveUpInPreviewThenSwitchesHostByHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      WorldManifest("strategy: { type: bluegreen }\n",
                    "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  const std::string name = Deploy(w, manifest, "v2");
  Deployment d = w.Record(name);
  // Every host's preview instances are up before the first host switches.
  int64_t last_start = 0, first_switch = INT64_MAX;
  std::vector<std::string> switched;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    ASSERT_TRUE(step.ok());
    if (step->op == Step::Op::kStart) last_start = std::max(last_start, op.finishedAt);
    if (step->op == Step::Op::kSwitch) {
      first_switch = std::min(first_switch, op.startedAt);
      switched.push_back(op.host);
    }
  }
  EXPECT_EQ(switched, (std::vector<std::string>{"h1", "h2", "h3"}));
  EXPECT_LE(last_start, first_switch);
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
    EXPECT_EQ(InSlotOn(w, h, "production"), (std::map<int, int>{{2, 2}})) << h;
    // The previous version stays warm in the preview slot: a swap returns to it.
    EXPECT_EQ(InSlotOn(w, h, "staging"), (std::map<int, int>{{1, 2}})) << h;
  }
  EXPECT_EQ(w.SlotVersion(), 2);
  SwapRequest back;
  back.app = "web";
  back.actor = "test";
  auto o = w.engine().Swap(back);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  EXPECT_EQ(w.SlotVersion(), 1);
}

constexpr const char* kSmokedBlueGreen =
    "strategy:\n  type: bluegreen\n  bluegreen:\n    smokeTest: { command: [./smoke] }\n";

std::string EnvOf(const ProbeSpec& spec, const std::string& name) {
  for (const auto& [k, v] : spec.env) {
    if (k == name) return v;
  }
  return "(unset)";
}

TEST(FleetExecutor, ABlueGreenSmokeTestRunsOnEachHostAgainstItsOwnPreviewBeforeAnySwitch) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = WorldManifest(
      kSmokedBlueGreen, "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");  // a first deployment has no preview: no smoke test
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_TRUE(w.hosts().Execs(h).empty()) << h;
  const std::string name = Deploy(w, manifest, "v2");
  auto all = w.sqlite().ListInstances("web");
  ASSERT_TRUE(all.ok());
  for (const char* h : {"h1", "h2", "h3"}) {
    auto execs = w.hosts().Execs(h);
    ASSERT_EQ(execs.size(), 1u) << h;
    EXPECT_EQ(execs[0].command, std::vector<std::string>{"./smoke"});
    EXPECT_EQ(execs[0].cwd, "/fake/" + std::string(h) + "/releases/web/2");
    EXPECT_EQ(EnvOf(execs[0], "LASTGOOD_HOST"), h);
    EXPECT_EQ(EnvOf(execs[0], "LASTGOOD_SLOT"), "staging");
    EXPECT_EQ(EnvOf(execs[0], "LASTGOOD_VERSION"), "2");
    // That host's two preview instances, and no other host's.
    std::multiset<std::string> expected;
    for (const auto& i : *all) {
      if (i.host == h && i.version == 2) expected.insert("127.0.0.1:" + std::to_string(i.port));
    }
    std::multiset<std::string> told;
    std::stringstream list(EnvOf(execs[0], "LASTGOOD_INSTANCES"));
    for (std::string a; std::getline(list, a, ',');) told.insert(a);
    EXPECT_EQ(told, expected) << h;
    EXPECT_EQ(told.size(), 2u) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
  }
  // Every host's smoke test passed before the first host switched.
  Deployment d = w.Record(name);
  int64_t last_smoke = 0, first_switch = INT64_MAX;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    ASSERT_TRUE(step.ok());
    if (step->op == Step::Op::kSmoke) {
      EXPECT_EQ(op.state, OperationState::kSucceeded) << op.host;
      EXPECT_NE(op.detail.find("smokeTest on " + op.host + ": exec ./smoke → exit 0"),
                std::string::npos)
          << op.detail;
      last_smoke = std::max(last_smoke, op.finishedAt);
    }
    if (step->op == Step::Op::kSwitch) first_switch = std::min(first_switch, op.startedAt);
  }
  EXPECT_LE(last_smoke, first_switch);
}

TEST(FleetExecutor, AHostWhoseSmokeTestFailsIsAFailedHostAndIsNotSwitched) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      WorldManifest(kSmokedBlueGreen,
                    "hosts: [h1, h2, h3]\nmaxFailedHosts: 1\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  w.hosts().ExecExits("h2", 1);
  const std::string name = Deploy(w, manifest, "v2");
  for (const char* h : {"h1", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
    EXPECT_EQ(InSlotOn(w, h, "production"), (std::map<int, int>{{2, 2}})) << h;
    EXPECT_EQ(InSlotOn(w, h, "staging"), (std::map<int, int>{{1, 2}})) << h;
  }
  // h2 serves what it served: its instances kept their slots through the store's exchange,
  // and its failed preview instances were stopped.
  EXPECT_EQ(RoutedOn(w, "h2"), std::set<int>{1});
  EXPECT_EQ(InSlotOn(w, "h2", "production"), (std::map<int, int>{{1, 2}}));
  EXPECT_EQ(InSlotOn(w, "h2", "staging"), (std::map<int, int>{}));
  EXPECT_EQ(w.hosts().target("h2").Alive().size(), 2u);
  Deployment d = w.Record(name);
  auto failed = FailedHosts(d);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed["h2"].find("smokeTest failed on h2: exec ./smoke → exit 1"), std::string::npos)
      << failed["h2"];
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    if (step.ok() && step->op == Step::Op::kSwitch && op.host == "h2") {
      EXPECT_EQ(op.state, OperationState::kSkipped);
    }
  }
}

TEST(FleetExecutor, ASmokeTestFailingBeyondMaxFailedHostsSwitchesNoHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      WorldManifest(kSmokedBlueGreen, "hosts: [h1, h2, h3]\nwaves: [1, 100%]\n");
  Deploy(w, manifest, "v1");
  w.hosts().ExecExits("h3", 1);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.reason.find("h3: smokeTest failed on h3"), std::string::npos) << d.reason;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    if (step.ok() && step->op == Step::Op::kSwitch) {
      EXPECT_NE(op.state, OperationState::kSucceeded) << op.host;
    }
  }
  if (auto rollback = w.engine().FollowUp("web", o->deployment)) w.WaitSettled(*rollback);
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
    EXPECT_EQ(InSlotOn(w, h, "staging"), (std::map<int, int>{})) << h;
  }
  EXPECT_EQ(w.SlotVersion(), 1);
}

TEST(FleetExecutor, ASmokeTestLongerThanANodeRunsOneIsRefused) {
  EngineWorld w;
  ThreeHosts(w);
  auto o = w.Apply(WorldManifest("strategy:\n  type: bluegreen\n  bluegreen:\n    smokeTest: "
                                 "{ command: [./smoke], timeout: 2m }\n",
                                 "hosts: [h1, h2, h3]\n"),
                   "v1");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(o.error().field, "strategy.bluegreen.smokeTest.timeout");
  EXPECT_TRUE(w.hosts().target("h1").Alive().empty());
}

constexpr const char* kBakedBlueGreen =
    "strategy:\n  type: bluegreen\n  bluegreen:\n"
    "    analysis: { window: 2s, minRequests: 10, maxErrorRate: 0.05 }\n"
    "bake: 3s\n";

TEST(FleetExecutor, ABlueGreenBakeFollowsTheSwitchesAndJudgesTheHostsTrafficAddedUp) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = WorldManifest(
      kBakedBlueGreen, "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  for (const char* h : {"h1", "h2", "h3"}) {
    w.hosts().router(h).SetTraffic("web", "staging", 2, 100, 0);
    w.hosts().router(h).SetTraffic("web", "staging", 3, 100, 0);
  }
  // After the switch h3 alone fails 10 of its 100 requests: 10 of 300 (3.3%) on the three.
  w.hosts().router("h1").SetTraffic("web", "production", 2, 100, 0);
  w.hosts().router("h2").SetTraffic("web", "production", 2, 100, 0);
  w.hosts().router("h3").SetTraffic("web", "production", 2, 100, 10);
  const std::string name = Deploy(w, manifest, "v2");
  Deployment d = w.Record(name);
  int64_t last_switch = 0;
  const Operation* bake = nullptr;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    ASSERT_TRUE(step.ok());
    if (step->op == Step::Op::kSwitch) last_switch = std::max(last_switch, op.finishedAt);
    if (step->op == Step::Op::kBake) {
      EXPECT_EQ(bake, nullptr) << "one bake, after the switches";
      bake = &op;
    }
  }
  ASSERT_NE(bake, nullptr);
  EXPECT_EQ(bake->host, "");
  EXPECT_EQ(bake->step, "bake v2 for 3s on every switched host");
  EXPECT_LE(last_switch, bake->startedAt);
  EXPECT_NE(bake->detail.find("3 hosts healthy for 3s"), std::string::npos) << bake->detail;

  // v3 fails 8 in 100 on every host once switched: the bake fails, and the fleet returns.
  for (const char* h : {"h1", "h2", "h3"})
    w.hosts().router(h).SetTraffic("web", "production", 3, 100, 8);
  auto o = w.Apply(manifest, "v3");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment failed = w.WaitSettled(o->deployment);
  EXPECT_EQ(failed.state, DeploymentState::kFailed);
  EXPECT_NE(failed.reason.find("broke strategy.bluegreen.analysis' limits during the bake"),
            std::string::npos)
      << failed.reason;
  EXPECT_NE(failed.reason.find("24 errors"), std::string::npos) << failed.reason;
  auto rollback = w.engine().FollowUp("web", o->deployment);
  ASSERT_TRUE(rollback.has_value());
  EXPECT_EQ(w.WaitSettled(*rollback).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
  EXPECT_EQ(w.VerdictOf(3), Verdict::kBad);
}

TEST(FleetExecutor, ABlueGreenPreviewFailingItsAnalysisSwitchesNoHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = WorldManifest(
      "strategy:\n  type: bluegreen\n  bluegreen:\n"
      "    analysis: { window: 2s, minRequests: 10, maxErrorRate: 0.05 }\n",
      "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  // The preview passes on h1 alone; with h2 and h3 it fails 40 of 300 requests.
  w.hosts().router("h1").SetTraffic("web", "staging", 2, 100, 0);
  w.hosts().router("h2").SetTraffic("web", "staging", 2, 100, 20);
  w.hosts().router("h3").SetTraffic("web", "staging", 2, 100, 20);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.reason.find("analysis failed"), std::string::npos) << d.reason;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    if (step.ok() && step->op == Step::Op::kSwitch) {
      EXPECT_NE(op.state, OperationState::kSucceeded) << op.host;
    }
  }
  auto rollback = w.engine().FollowUp("web", o->deployment);
  if (rollback) {
    EXPECT_EQ(w.WaitSettled(*rollback).state, DeploymentState::kSucceeded);
  }
  // The failed version's preview instances are gone from every host.
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(InSlotOn(w, h, "staging"), (std::map<int, int>{})) << h;
  }
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  EXPECT_EQ(w.SlotVersion(), 1);
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
}

TEST(FleetExecutor, ARollbackAfterABlueGreenFleetDeploymentSwapsEveryHostBackLastSwitchedFirst) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      WorldManifest("strategy: { type: bluegreen }\n",
                    "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  Deploy(w, manifest, "v2");
  std::map<std::string, int> starts;
  for (const char* h : {"h1", "h2", "h3"}) starts[h] = w.hosts().target(h).Starts();
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  auto o = w.engine().Rollback(req);
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment rb = w.WaitSettled(o->deployment);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  EXPECT_EQ(rb.strategy, "swap");
  for (const char* h : {"h1", "h2", "h3"}) {
    // v1's warm instances confirmed in staging, then the switch back: nothing started.
    EXPECT_EQ(StepsOn(rb, h), (std::vector<std::string>{"prepare", "start", "switch"})) << h;
    EXPECT_EQ(w.hosts().target(h).Starts(), starts[h]) << h;
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
    EXPECT_EQ(InSlotOn(w, h, "production"), (std::map<int, int>{{1, 2}})) << h;
    // What it left stays warm in staging: a swap goes forward again.
    EXPECT_EQ(InSlotOn(w, h, "staging"), (std::map<int, int>{{2, 2}})) << h;
  }
  EXPECT_EQ(w.SlotVersion(), 1);
  // The last switched first, each switch its own operation with its host and times.
  std::vector<std::string> switched;
  int64_t last_start = 0, first_switch = INT64_MAX;
  for (const auto& op : rb.operations) {
    auto step = StepFromJson(op.spec);
    ASSERT_TRUE(step.ok());
    if (step->op == Step::Op::kStart) last_start = std::max(last_start, op.finishedAt);
    if (step->op != Step::Op::kSwitch) continue;
    switched.push_back(op.host);
    first_switch = std::min(first_switch, op.startedAt);
    EXPECT_GT(op.finishedAt, 0) << op.host;
  }
  EXPECT_EQ(switched, (std::vector<std::string>{"h3", "h2", "h1"}));
  EXPECT_LE(last_start, first_switch);
}

TEST(FleetExecutor, AHostThatLostItsWarmPreviewIsStartedAnewInStagingAndSwitchedBackWithTheRest) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest =
      WorldManifest("strategy: { type: bluegreen }\n",
                    "hosts: [h1, h2, h3]\nwaves: [1, 100%]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  Deploy(w, manifest, "v2");
  // h2's v1 in staging is gone: one instance died unseen, the other's record is gone too.
  auto all = w.sqlite().ListInstances("web");
  ASSERT_TRUE(all.ok());
  bool killed = false, removed = false;
  for (const auto& i : *all) {
    if (i.host != "h2" || i.slot != "staging" || i.version != 1) continue;
    if (!killed) {
      w.hosts().target("h2").Kill(i.id);
      killed = true;
    } else if (!removed) {
      ASSERT_TRUE(w.sqlite().DeleteInstance(i.id).ok());
      w.hosts().target("h2").Kill(i.id);
      removed = true;
    }
  }
  ASSERT_TRUE(killed && removed);
  const int h2_starts = w.hosts().target("h2").Starts();
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  auto o = w.engine().Rollback(req);
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment rb = w.WaitSettled(o->deployment);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  // h2 is redeployed in staging (the record says it started two), then switched with the rest.
  EXPECT_EQ(StepsOn(rb, "h2"), (std::vector<std::string>{"prepare", "stopOld", "start", "switch"}));
  std::string detail;
  for (const auto& op : rb.operations) {
    if (op.host == "h2" && op.step.find("run") == 0) detail = op.detail;
  }
  EXPECT_NE(detail.find("started 2"), std::string::npos) << detail;
  EXPECT_EQ(w.hosts().target("h2").Starts(), h2_starts + 2);
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
    EXPECT_EQ(InSlotOn(w, h, "production"), (std::map<int, int>{{1, 2}})) << h;
  }
}

TEST(FleetExecutor, ABlueGreenOverHostsOfWhichSomeRunNothingYetStartsThoseInProduction) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string two = WorldManifest("strategy: { type: bluegreen }\n",
                                        "hosts: [h1, h2]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, two, "v1");
  const std::string three = WorldManifest("strategy: { type: bluegreen }\nbake: 2s\n",
                                          "hosts: [h1, h2, h3]\nrollback: { keepPrevious: 10m }\n");
  const std::string name = Deploy(w, three, "v2");
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(InSlotOn(w, h, "production"), (std::map<int, int>{{2, 2}})) << h;
    EXPECT_EQ(InSlotOn(w, h, "staging"), (std::map<int, int>{{1, 2}})) << h;
  }
  // h3 had nothing to swap: v2 started in production there, and the others' switches left
  // its instances where they were.
  EXPECT_EQ(InSlotOn(w, "h3", "production"), (std::map<int, int>{{2, 2}}));
  EXPECT_EQ(InSlotOn(w, "h3", "staging"), (std::map<int, int>{}));
  EXPECT_EQ(w.hosts().target("h3").Alive().size(), 2u);
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
  EXPECT_EQ(w.SlotVersion(), 2);
  Deployment d = w.Record(name);
  bool baked = false;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    ASSERT_TRUE(step.ok());
    if (op.host == "h3") {
      EXPECT_NE(step->op, Step::Op::kSwitch);
      EXPECT_NE(step->slot, "staging") << op.step;
    }
    // The bake after the switches watches h3 too.
    if (step->op == Step::Op::kBake) {
      baked = true;
      EXPECT_NE(op.detail.find("3 hosts healthy"), std::string::npos) << op.detail;
    }
  }
  EXPECT_TRUE(baked);
  // A swap back would leave h3 with nothing in production: refused, naming it.
  SwapRequest back;
  back.app = "web";
  back.actor = "test";
  auto refused = w.engine().Swap(back);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("h3"), std::string::npos) << refused.error().message;
  // A rollback returns to v1 where v1 ran: v1's manifest did not select h3, which leaves it.
  RollRequest req;
  req.app = "web";
  req.actor = "test";
  auto rb = w.engine().Rollback(req);
  ASSERT_TRUE(rb.ok()) << rb.error().message;
  EXPECT_EQ(w.WaitSettled(rb->deployment).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  EXPECT_EQ(LiveOn(w, "h3"), (std::map<int, int>{}));  // v2 kept warm there at most
  EXPECT_EQ(RoutedOn(w, "h3"), std::set<int>{});
  EXPECT_EQ(w.SlotVersion(), 1);
}

// A canary across hosts: each host runs the canary's weights on its own router; the analyses
// and pauses hold the whole wave and judge the hosts' counts added up.
constexpr const char* kFleetCanary =
    "strategy:\n  type: canary\n  canary:\n    steps:\n"
    "      - weight: 50\n"
    "      - analysis: { window: 2s, minRequests: 10, maxErrorRate: 0.1 }\n";

// Each host's router measures `requests` of `version` with `errors` failed.
void HostTraffic(EngineWorld& w, const std::string& host, int version, uint64_t requests,
                 uint64_t errors) {
  w.hosts().router(host).SetTraffic("web", "production", version, requests, errors);
}

TEST(FleetExecutor, ACanaryIsJudgedOnTheHostsCountsAddedUpNotOnAnyOneHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = WorldManifest(kFleetCanary, "hosts: [h1, h2, h3]\n");
  for (const char* h : {"h1", "h2", "h3"}) HostTraffic(w, h, 1, 1000, 0);
  Deploy(w, manifest, "v1");
  // h1 and h2 alone would pass (4% errors); the three together fail 38 of 300 (12.7%).
  HostTraffic(w, "h1", 2, 100, 4);
  HostTraffic(w, "h2", 2, 100, 4);
  HostTraffic(w, "h3", 2, 100, 30);
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.reason.find("analysis failed"), std::string::npos) << d.reason;
  bool whole = false;
  for (const auto& op : d.operations) {
    if (op.step.rfind("wave 1: analyse canary", 0) == 0) {
      whole = true;
      EXPECT_EQ(op.host, "") << "an analysis judges the whole wave";
      EXPECT_NE(op.detail.find("38"), std::string::npos) << op.detail;
    }
  }
  EXPECT_TRUE(whole);
  auto rollback = w.engine().FollowUp("web", o->deployment);
  ASSERT_TRUE(rollback.has_value());
  EXPECT_EQ(w.WaitSettled(*rollback).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2", "h3"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{1}) << h;
  EXPECT_EQ(w.VerdictOf(2), Verdict::kBad);
}

TEST(FleetExecutor, AHealthyCanaryOnEveryHostCompletesEverywhere) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = WorldManifest(kFleetCanary, "hosts: [h1, h2, h3]\n");
  for (const char* h : {"h1", "h2", "h3"}) {
    HostTraffic(w, h, 1, 1000, 0);
    HostTraffic(w, h, 2, 100, 0);
  }
  Deploy(w, manifest, "v1");
  Deploy(w, manifest, "v2");
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{2, 2}})) << h;
  }
}

TEST(FleetExecutor, APausedFleetCanaryWaitsForResumeAndAnAbortReturnsEveryHost) {
  EngineWorld w;
  ThreeHosts(w);
  const std::string manifest = WorldManifest(
      "strategy:\n  type: canary\n  canary:\n    steps:\n"
      "      - weight: 50\n      - pause: untilResumed\n      - weight: 80\n",
      "hosts: [h1, h2]\nrollback: { keepPrevious: 10m }\n");
  Deploy(w, manifest, "v1");
  auto o = w.Apply(manifest, "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(w.WaitAtStep(o->deployment, "wave 1: pause until"));
  auto resumed = w.engine().Control({"web", "resume", false, "test"});
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
  for (const char* h : {"h1", "h2"}) EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;

  auto three = w.Apply(manifest, "v3");
  ASSERT_TRUE(three.ok()) << three.error().message;
  ASSERT_TRUE(w.WaitAtStep(three->deployment, "wave 1: pause until"));
  auto aborted = w.engine().Control({"web", "abort", false, "test"});
  ASSERT_TRUE(aborted.ok()) << aborted.error().message;
  Deployment d = w.WaitSettled(three->deployment);
  EXPECT_EQ(d.state, DeploymentState::kRolledBack);
  EXPECT_EQ(d.reason, "aborted by test");
  auto list = w.sqlite().ListDeployments("web", 1);
  ASSERT_TRUE(list.ok() && !list->empty());
  Deployment rb = w.WaitSettled(list->front().name);
  EXPECT_EQ(rb.kind, DeploymentKind::kRollback);
  EXPECT_EQ(rb.state, DeploymentState::kSucceeded) << rb.reason;
  EXPECT_EQ(HostsOf(rb), (std::vector<std::string>{"h2", "h1"}));  // reverse order
  EXPECT_EQ(w.SlotVersion(), 2);
  for (const char* h : {"h1", "h2"}) {
    EXPECT_EQ(RoutedOn(w, h), std::set<int>{2}) << h;
    EXPECT_EQ(LiveOn(w, h), (std::map<int, int>{{2, 2}})) << h;
  }
  EXPECT_EQ(w.VerdictOf(3), Verdict::kBad);
}

}  // namespace
}  // namespace lastgood
