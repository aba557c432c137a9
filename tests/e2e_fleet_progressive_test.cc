// Progressive delivery across fleet hosts end to end (issue 14, docs/fleets.md): a canary
// whose weights every host's router applies, judged on the hosts' counts added up; abort and
// rollforward of a fleet app. The real controller drives three namespace hosts (Debian's
// sshd, the real ssh client, a node and router on each) under a load sent to every host's
// router, and every request is counted with the version that answered it.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "testutil/fleet_controller.h"
#include "testutil/fleet_hosts.h"
#include "testutil/lastgood.h"
#include "testutil/load.h"

// A namespace of its own: the unity build puts this file beside other tests' helpers.
namespace lastgood::testutil::fleet_progressive {
namespace {

using json = nlohmann::json;

constexpr int kPort = 8080;  // every host's router takes the app's traffic there

// One canary weight step followed by an analysis of `window` that needs `min` requests (of
// all hosts together) and allows 1% errors.
std::string CanarySteps(const std::string& window, int min) {
  return "  canary:\n    steps:\n      - weight: 20\n      - analysis: { window: " + window +
         ", minRequests: " + std::to_string(min) + ", maxErrorRate: 0.01 }";
}

// A controller with three hosts h1..h3 labelled role=web, and a load on each host's router.
struct ThreeHostFleet {
  ThreeHostFleet() : hosts(3) {
    if (!hosts.ok()) return;
    ServeWithHosts(lg, hosts);
  }
  static SampleApp App(SampleApp app) {
    return app.Replicas(2).KeepPrevious("10m").Extra(
        "route: { listen: 0.0.0.0:" + std::to_string(kPort) +
        " }\nhosts: { selector: { role: web } }\n");
  }
  void StartLoad() {
    for (int i = 1; i <= 3; ++i) {
      loads.push_back(std::make_unique<SteadyLoad>(
          LoadOptions{.port = kPort, .host = hosts.Address(i), .threads = 2, .rate = 100}));
    }
    for (auto& l : loads) {
      EXPECT_TRUE(WaitUntil([&] { return l->Served() > 10; }, 10s)) << "no traffic flows";
    }
  }
  // Every host's report.
  std::vector<LoadReport> StopLoad() {
    std::vector<LoadReport> out;
    for (auto& l : loads) out.push_back(l->Stop());
    loads.clear();
    return out;
  }
  // What each host's production slot runs, from `status -o json`: name → version.
  std::map<std::string, int> HostVersions() {
    std::map<std::string, int> out;
    json s = lg.Status();
    if (!s.is_object()) return out;
    for (const auto& h : s["slots"]["production"]["hosts"])
      out[h["name"]] = h["version"].is_null() ? 0 : h["version"].get<int>();
    return out;
  }
  FleetHosts hosts;
  Lastgood lg;
  std::vector<std::unique_ptr<SteadyLoad>> loads;
};

std::string Summaries(const std::vector<LoadReport>& reports) {
  std::string s;
  for (size_t i = 0; i < reports.size(); ++i)
    s += FleetHosts::Name(static_cast<int>(i) + 1) + ": " + reports[i].Summary() + "\n";
  return s;
}

const std::map<std::string, int> kAllOn1{{"h1", 1}, {"h2", 1}, {"h3", 1}};
const std::map<std::string, int> kAllOn2{{"h1", 2}, {"h2", 2}, {"h3", 2}};

TEST(FleetCanary, AGoodCanaryAcrossThreeHostsCompletesWithNoFailedRequest) {
  ThreeHostFleet s;
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(ThreeHostFleet::App(SampleApp().Strategy("canary").StrategyYaml(CanarySteps("2s", 40))));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();
  s.lg.Apply({"--param", "label=v2", "--name", "two"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  auto reports = s.StopLoad();
  EXPECT_EQ(s.HostVersions(), kAllOn2) << s.lg.Status().dump(2);
  for (size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].failed, 0u) << Summaries(reports);
    // Each host's router split its own traffic between the versions.
    EXPECT_GT(reports[i].per_label["v1"], 0u) << Summaries(reports);
    EXPECT_GT(reports[i].per_label["v2"], 0u) << Summaries(reports);
  }
  // One analysis of the whole wave, passed on the hosts' counts together.
  json two = s.lg.Deployment("two");
  int analyses = 0;
  for (const auto& op : two["operations"]) {
    if (op["step"].get<std::string>().find("analyse canary") == std::string::npos) continue;
    ++analyses;
    EXPECT_TRUE(op["host"].is_null()) << op;
    EXPECT_EQ(op["state"], "Succeeded") << op;
    EXPECT_NE(op["detail"].get<std::string>().find("passed"), std::string::npos) << op;
  }
  EXPECT_EQ(analyses, 1) << two.dump(2);
  s.lg.Verdict(2, "good");
}

TEST(FleetCanary, ACanaryFailingOneRequestInTwentyIsRolledBackOnEveryHostOnlyItsShareFailed) {
  ThreeHostFleet s;
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(ThreeHostFleet::App(SampleApp().Strategy("canary").StrategyYaml(CanarySteps("3s", 40))));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();
  s.lg.Apply({"--param", "label=v2", "--param", "failRate=0.05", "--name", "two"});
  EXPECT_EQ(s.lg.last().code, 1) << s.lg.Context();
  s.lg.WaitForIdle(30s);
  auto reports = s.StopLoad();
  EXPECT_EQ(s.HostVersions(), kAllOn1) << s.lg.Status().dump(2);
  json two = s.lg.Deployment("two");
  EXPECT_EQ(two["state"], "Failed") << two.dump(2);
  EXPECT_NE(two["reason"].get<std::string>().find("analysis failed"), std::string::npos)
      << two.dump(2);
  json history = s.lg.History();
  ASSERT_GE(history.size(), 3u) << history.dump(2);
  EXPECT_EQ(history[0]["kind"], "rollback") << history.dump(2);
  EXPECT_EQ(history[0]["trigger"], "auto") << history.dump(2);
  EXPECT_EQ(history[0]["state"], "Succeeded") << history.dump(2);
  s.lg.Verdict(2, "bad");
  // Every host served the canary, and every failed request was the canary's own.
  size_t failed = 0, v2_all = 0;
  for (const auto& r : reports) {
    EXPECT_GT(r.per_label.count("v2") ? r.per_label.at("v2") : 0u, 0u) << Summaries(reports);
    for (const auto& q : r.requests) {
      if (q.label == "v2") ++v2_all;
      if (!q.failed()) continue;
      ++failed;
      EXPECT_EQ(q.label, "v2") << "a failure that was not the canary's: " << Summaries(reports);
    }
  }
  EXPECT_GT(failed, 0u) << "the canary failed no request: " << Summaries(reports);
  EXPECT_LT(failed, v2_all / 5 + 5) << Summaries(reports);
}

// pause/resume, rollback, rollforward, abort and promote of a fleet app, under load on every
// host: the verbs act on the whole fleet, and no request fails.
TEST(FleetControl, ResumeRollbackRollforwardAbortAndPromoteActOnEveryHostWithNoFailedRequest) {
  ThreeHostFleet s;
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(ThreeHostFleet::App(SampleApp().Strategy("canary").StrategyYaml(
      "  canary:\n    steps:\n      - weight: 50\n      - pause: untilResumed")));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();

  // The canary holds every host at 50% until resumed.
  s.lg.Apply({"--param", "label=v2", "--no-wait"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.WaitForStep("pause until");
  s.lg.Run({"resume", "web"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.WaitForIdle(30s);
  EXPECT_EQ(s.HostVersions(), kAllOn2) << s.lg.Status().dump(2);

  // Back and forth over the whole fleet, each host by a table change (v1, then v2, warm).
  s.lg.Run({"rollback", "web"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(), kAllOn1) << s.lg.Status().dump(2);
  s.lg.Run({"rollforward", "web"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(), kAllOn2) << s.lg.Status().dump(2);
  json history = s.lg.History();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["kind"], "rollforward") << history.dump(2);
  EXPECT_EQ(history[0]["version"], 2) << history.dump(2);

  // An abort while v3's canary waits: every host back on v2, v3 bad.
  s.lg.Apply({"--param", "label=v3", "--no-wait"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.WaitForStep("pause until");
  s.lg.Run({"abort", "web"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.WaitForIdle(30s);
  EXPECT_EQ(s.HostVersions(), kAllOn2) << s.lg.Status().dump(2);
  s.lg.Verdict(3, "bad");
  history = s.lg.History();
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[1]["state"], "RolledBack") << history.dump(2);
  EXPECT_EQ(history[0]["kind"], "rollback") << history.dump(2);
  EXPECT_EQ(history[0]["state"], "Succeeded") << history.dump(2);

  // Promote: v1's content as v4, through the same canary on every host.
  s.lg.Run({"promote", "web", "1", "--no-wait"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.WaitForStep("pause until");
  s.lg.Run({"resume", "web"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.WaitForIdle(30s);
  EXPECT_EQ(s.HostVersions(), (std::map<std::string, int>{{"h1", 4}, {"h2", 4}, {"h3", 4}}))
      << s.lg.Status().dump(2);
  for (int i = 1; i <= 3; ++i) {
    auto r = HttpGet(s.hosts.Address(i), kPort, "/");
    EXPECT_EQ(r.body.substr(0, 2), "v1") << FleetHosts::Name(i) << " " << r.error;
  }

  auto reports = s.StopLoad();
  for (const auto& r : reports) {
    EXPECT_EQ(r.failed, 0u) << Summaries(reports);
    EXPECT_GT(r.per_label.count("v3") ? r.per_label.at("v3") : 0u, 0u)
        << "a host never served v3's canary: " << Summaries(reports);
  }
}

// `lastgood traffic web staging=N` of a fleet app: the share is in force on every host's
// router, and back to 0 no new client reaches staging — no request fails.
TEST(FleetTraffic, ASlotsShareIsInForceOnEveryHostsRouterUnderLoad) {
  ThreeHostFleet s;
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(ThreeHostFleet::App(SampleApp()));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.Apply({"--param", "label=v2", "--slot", "staging"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();
  s.lg.Run({"traffic", "web", "staging=30"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_NE(s.lg.last().out.find("3 hosts"), std::string::npos) << s.lg.Context();
  // Each host's router sends new clients to staging now.
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto r = HttpGet(s.hosts.Address(i), kPort, "/");
          return r.ok() && r.body.rfind("v2", 0) == 0;
        },
        10s, 10ms))
        << FleetHosts::Name(i) << "'s router sends no new client to staging";
  }
  // Kept until each host's load has had its share (on a loaded machine, a few requests only).
  for (size_t i = 0; i < s.loads.size(); ++i) {
    EXPECT_TRUE(WaitUntil([&] { return s.loads[i]->ServedBy("v2") > 0; }, 10s, 10ms))
        << FleetHosts::Name(static_cast<int>(i) + 1) << "'s clients never reached staging";
  }
  s.lg.Run({"traffic", "web", "staging=0"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  const auto after = LoadClock::now();
  std::this_thread::sleep_for(500ms);
  auto reports = s.StopLoad();
  for (const auto& r : reports) {
    EXPECT_EQ(r.failed, 0u) << Summaries(reports);
    EXPECT_GT(r.per_label.count("v2") ? r.per_label.at("v2") : 0u, 0u) << Summaries(reports);
    EXPECT_EQ(r.ServedBySince("v2", after), 0u) << Summaries(reports);
  }
}

// `lastgood swap web` of a fleet app under load: staging's version goes live on every host,
// host by host (the record has each host's switch), and a swap back — previewed on every host
// (`--preview`), then completed — returns every host; no request fails.
TEST(FleetSwap, AFleetSwapSwitchesHostByHostUnderLoadAndASwapBackReturnsEveryHost) {
  ThreeHostFleet s;
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(ThreeHostFleet::App(SampleApp()));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.Apply({"--param", "label=v2", "--slot", "staging"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();

  s.lg.Run({"swap", "web"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(), kAllOn2) << s.lg.Status().dump(2);
  for (int i = 1; i <= 3; ++i) {
    auto r = HttpGet(s.hosts.Address(i), kPort, "/");
    EXPECT_EQ(r.body.substr(0, 2), "v2") << FleetHosts::Name(i) << " " << r.error;
  }
  json history = s.lg.History();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["kind"], "swap") << history.dump(2);
  json record = s.lg.Deployment(history[0]["name"]);
  std::vector<std::string> switched;
  std::string last_finished;
  for (const auto& op : record["operations"]) {
    if (op["step"].get<std::string>().rfind("switch", 0) != 0) continue;
    switched.push_back(op["host"]);
    EXPECT_EQ(op["state"], "Succeeded") << op;
    // Host by host: each switch starts once the one before has ended.
    EXPECT_GE(op["startedAt"].get<std::string>(), last_finished) << record.dump(2);
    last_finished = op["finishedAt"];
  }
  EXPECT_EQ(switched, (std::vector<std::string>{"h1", "h2", "h3"})) << record.dump(2);

  // Back in two phases: the preview changes settings only, complete switches host by host.
  s.lg.Run({"swap", "web", "--preview"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(), kAllOn2) << s.lg.Status().dump(2);
  EXPECT_EQ(s.lg.Status()["slots"]["production"]["swapPending"]["source"], "staging");
  s.lg.Run({"swap", "web", "--complete"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(), kAllOn1) << s.lg.Status().dump(2);
  auto reports = s.StopLoad();
  for (const auto& r : reports) {
    EXPECT_EQ(r.failed, 0u) << Summaries(reports);
    EXPECT_GT(r.per_label.count("v2") ? r.per_label.at("v2") : 0u, 0u) << Summaries(reports);
  }
}

// A rolling update judged after each wave (strategy.rolling.analysis): a version failing 1
// request in 20 on the first wave's host, against the previous version still served by the
// later hosts, fails the analysis; the later hosts are never touched and the first one is
// rolled back. Only that version's requests failed.
TEST(FleetWaveAnalysis, AWaveWorseThanThePreviousVersionStopsTheRollingUpdateAndIsRolledBack) {
  ThreeHostFleet s;
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  auto app = [] {
    return ThreeHostFleet::App(SampleApp().StrategyYaml(
        "  rolling:\n    maxSurge: 1\n    analysis: { window: 3s, minRequests: 40, "
        "maxErrorRate: 0.5, maxErrorRateIncrease: 0.02 }"));
  };
  s.lg.App(app().Extra("waves: [1, 100%]\n"));
  s.lg.Apply();  // a first deployment: no wave analysis, nothing ran before
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();
  s.lg.Apply({"--param", "label=v2", "--param", "failRate=0.05", "--name", "two"});
  EXPECT_EQ(s.lg.last().code, 1) << s.lg.Context();
  s.lg.WaitForIdle(30s);
  auto reports = s.StopLoad();
  EXPECT_EQ(s.HostVersions(), kAllOn1) << s.lg.Status().dump(2);
  json two = s.lg.Deployment("two");
  EXPECT_EQ(two["state"], "Failed") << two.dump(2);
  EXPECT_NE(two["reason"].get<std::string>().find("maxErrorRateIncrease"), std::string::npos)
      << two.dump(2);
  s.lg.Verdict(2, "bad");
  // h2 and h3 (the second wave) never served v2; every failed request was v2's.
  for (size_t i = 0; i < reports.size(); ++i) {
    const size_t v2 = reports[i].per_label.count("v2") ? reports[i].per_label.at("v2") : 0;
    if (i == 0) {
      EXPECT_GT(v2, 0u) << Summaries(reports);
    } else {
      EXPECT_EQ(v2, 0u) << Summaries(reports);
    }
    for (const auto& q : reports[i].requests) {
      if (q.failed()) {
        EXPECT_EQ(q.label, "v2") << Summaries(reports);
      }
    }
  }
}

// A bluegreen fleet deployment under load: v2 comes up in the preview slot of every host, wave
// by wave, and each host's smoke test, run there by its node, checks that host's preview
// instances answer v2; then the hosts switch one at a time, and the bake watches every
// switched host. `lastgood swap` returns every host to v1, warm in the preview slot. No
// request fails.
TEST(FleetBlueGreen, ABlueGreenFleetDeploymentSwitchesEveryHostUnderLoadAndIsSwappedBack) {
  ThreeHostFleet s;
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  const std::string smoke =
      "test -n $LASTGOOD_HOST && test -n $LASTGOOD_INSTANCES && for a in $(echo "
      "$LASTGOOD_INSTANCES | tr , ' '); do curl -fsS http://$a/ | grep -q ^v2 || exit 1; done";
  s.lg.App(ThreeHostFleet::App(
               SampleApp()
                   .Strategy("bluegreen")
                   .StrategyYaml("  bluegreen:\n    smokeTest: { command: [/bin/sh, -c, \"" +
                                 smoke + "\"], timeout: 10s }"))
               .Bake("1s")
               .Extra("waves: [1, 100%]\n"));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();
  s.lg.Apply({"--param", "label=v2", "--name", "two"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(), kAllOn2) << s.lg.Status().dump(2);
  json two = s.lg.Deployment("two");
  std::vector<std::string> switched, smoked;
  std::string last_switch, bake_start;
  for (const auto& op : two["operations"]) {
    const std::string step = op["step"];
    if (step.rfind("switch", 0) == 0) {
      switched.push_back(op["host"]);
      last_switch = op["finishedAt"];
    }
    if (step.rfind("run the smoke test", 0) == 0) {
      smoked.push_back(op["host"]);
      EXPECT_EQ(op["state"], "Succeeded") << op;
      EXPECT_NE(op["detail"].get<std::string>().find("exit 0"), std::string::npos) << op;
    }
    if (step == "bake v2 for 1s on every switched host") {
      bake_start = op["startedAt"];
      EXPECT_EQ(op["state"], "Succeeded") << op;
    }
  }
  EXPECT_EQ(switched, (std::vector<std::string>{"h1", "h2", "h3"})) << two.dump(2);
  EXPECT_EQ(smoked, (std::vector<std::string>{"h1", "h2", "h3"})) << two.dump(2);
  EXPECT_GE(bake_start, last_switch) << two.dump(2);
  EXPECT_FALSE(bake_start.empty()) << two.dump(2);

  // A rollback returns by a swap back: v1 waits warm in staging on every host, confirmed
  // there (nothing started), then switched host by host, the last switched first.
  s.lg.Run({"rollback", "web"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(), kAllOn1) << s.lg.Status().dump(2);
  json history = s.lg.History();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["kind"], "rollback") << history.dump(2);
  EXPECT_EQ(history[0]["strategy"], "swap") << history.dump(2);
  json back = s.lg.Deployment(history[0]["name"].get<std::string>());
  std::vector<std::string> switched_back;
  for (const auto& op : back["operations"]) {
    const std::string step = op["step"];
    if (step.rfind("switch", 0) == 0) switched_back.push_back(op["host"]);
    if (step.rfind("run ", 0) == 0) {
      EXPECT_EQ(op["detail"].get<std::string>().find("started"), std::string::npos) << op;
    }
  }
  EXPECT_EQ(switched_back, (std::vector<std::string>{"h3", "h2", "h1"})) << back.dump(2);
  auto reports = s.StopLoad();
  for (const auto& r : reports) {
    EXPECT_EQ(r.failed, 0u) << Summaries(reports);
    EXPECT_GT(r.per_label.count("v2") ? r.per_label.at("v2") : 0u, 0u) << Summaries(reports);
  }
}

}  // namespace
}  // namespace lastgood::testutil::fleet_progressive
