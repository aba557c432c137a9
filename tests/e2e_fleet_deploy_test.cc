// Fleet deployments end to end (issue 14, docs/fleets.md): the real controller deploys the
// sample app to namespace hosts (Debian's sshd, the real ssh client, a node on each host with
// its own router), wave by wave, under a load sent to every host's router, and rolls the
// fleet back — by hand, and by itself when a wave fails. Every failed request is counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "testutil/fleet_controller.h"
#include "testutil/fleet_hosts.h"
#include "testutil/lastgood.h"
#include "testutil/load.h"
#include "testutil/process.h"

namespace lastgood::testutil {
namespace {

using json = nlohmann::json;

// Where every host's router takes the app's traffic, in its own network namespace.
constexpr int kFleetPort = 8080;

// The lines of `out` that begin with `start` and contain `has`.
int CountLines(const std::string& out, const std::string& start, const std::string& has) {
  int n = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    n += line.rfind(start, 0) == 0 && line.find(has) != std::string::npos ? 1 : 0;
  return n;
}

// A controller with N hosts h1..hN added, each labelled role=web.
struct FleetDeploy {
  explicit FleetDeploy(int n) : hosts(n) {
    if (!hosts.ok()) return;
    ServeWithHosts(lg, hosts);
  }
  // The sample app on every role=web host, two instances each.
  static SampleApp App(const std::string& fleet_yaml) {
    return SampleApp().Replicas(2).KeepPrevious("10m").Extra(
        "route: { listen: 0.0.0.0:" + std::to_string(kFleetPort) +
        " }\nhosts: { selector: { role: web } }\n" + fleet_yaml);
  }
  // A steady load on every host's router.
  void StartLoad() {
    for (int i = 1; i <= hosts.count(); ++i) {
      loads.push_back(std::make_unique<SteadyLoad>(
          LoadOptions{.port = kFleetPort, .host = hosts.Address(i), .threads = 2, .rate = 100}));
    }
    for (auto& l : loads) {
      EXPECT_TRUE(WaitUntil([&] { return l->Served() > 10; }, 10s)) << "no traffic flows";
    }
  }
  // Stops the loads; every failed request, by host, in the message.
  size_t StopLoad(std::string* summary) {
    size_t failed = 0;
    for (size_t i = 0; i < loads.size(); ++i) {
      LoadReport r = loads[i]->Stop();
      failed += r.failed;
      *summary += FleetHosts::Name(static_cast<int>(i) + 1) + ": " + r.Summary() + "\n";
    }
    loads.clear();
    return failed;
  }
  // What each host's production slot runs, from `status -o json`: name → version (0: none).
  std::map<std::string, int> HostVersions() {
    std::map<std::string, int> out;
    json s = lg.Status();
    if (!s.is_object()) return out;
    for (const auto& h : s["slots"]["production"]["hosts"])
      out[h["name"]] = h["version"].is_null() ? 0 : h["version"].get<int>();
    return out;
  }
  // Whether `lastgood hosts` says host `name` is reachable now.
  bool Reachable(const std::string& name) {
    for (const auto& h : lg.Json({"hosts"})) {
      if (h["name"] == name) return h["reachable"].get<bool>();
    }
    return false;
  }
  // The hosts of a deployment's host steps, in the order they were first acted on.
  std::vector<std::string> HostsActedOn(const std::string& name) {
    std::vector<std::string> out;
    json d = lg.Deployment(name);
    if (!d.is_object()) return out;
    std::vector<std::pair<std::string, std::string>> starts;  // startedAt, host
    for (const auto& op : d["operations"]) {
      if (!op["host"].is_string() || !op["startedAt"].is_string()) continue;
      if (op["step"].get<std::string>().rfind("prepare", 0) == 0) continue;
      starts.emplace_back(op["startedAt"], op["host"]);
    }
    std::stable_sort(starts.begin(), starts.end());
    for (const auto& [at, h] : starts) {
      if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
    }
    return out;
  }
  FleetHosts hosts;
  Lastgood lg;
  std::vector<std::unique_ptr<SteadyLoad>> loads;
};

// The walk-through of docs/fleets.md: apply in waves under load, per-host progress, status per
// host, then `lastgood rollback` of the whole fleet — no request fails.
TEST(FleetDeploy, FiveHostsInWavesThenAFleetRollbackUnderLoadFailNoRequest) {
  FleetDeploy s(5);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(FleetDeploy::App("waves: [1, 50%, 100%]"));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();

  s.lg.Apply({"--param", "label=v2", "--name", "two"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  // Progress is shown host by host.
  EXPECT_NE(s.lg.last().out.find("h3"), std::string::npos) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(),
            (std::map<std::string, int>{{"h1", 2}, {"h2", 2}, {"h3", 2}, {"h4", 2}, {"h5", 2}}))
      << s.lg.Status().dump(2);
  json status = s.lg.Status();
  for (const auto& i : status["slots"]["production"]["instances"]) {
    EXPECT_TRUE(i["host"].is_string() && i["host"] != "local") << i;
  }
  // The record: every host step carries its host, each wave's gate and the finish none.
  json two = s.lg.Deployment("two");
  ASSERT_TRUE(two.is_object()) << two;
  EXPECT_EQ(two["state"], "Succeeded") << two.dump(2);
  bool whole = false;
  for (const auto& op : two["operations"]) whole = whole || op["host"].is_null();
  EXPECT_TRUE(whole) << two.dump(2);
  auto order = s.HostsActedOn("two");
  ASSERT_EQ(order.size(), 5u) << two.dump(2);
  EXPECT_EQ(order[0], "h1");  // the first wave: one host
  s.lg.Run({"deployment", "web", "two"});
  EXPECT_NE(s.lg.last().out.find("HOST"), std::string::npos) << s.lg.Context();

  s.lg.Run({"rollback", "web"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(s.HostVersions(),
            (std::map<std::string, int>{{"h1", 1}, {"h2", 1}, {"h3", 1}, {"h4", 1}, {"h5", 1}}))
      << s.lg.Status().dump(2);
  std::string summary;
  EXPECT_EQ(s.StopLoad(&summary), 0u) << summary;
  // Reverted in the reverse order of switching: the first wave's host last.
  json history = s.lg.History();
  ASSERT_FALSE(history.empty());
  auto reverted = s.HostsActedOn(history[0]["name"]);
  ASSERT_EQ(reverted.size(), 5u);
  EXPECT_EQ(reverted.back(), "h1");
}

// A release that cannot get ready on the second wave's host: the deployment fails, and the
// automatic rollback returns the hosts it switched; the third wave's host is never touched.
TEST(FleetDeploy, AVersionThatFailsOnTheSecondWaveIsRolledBackOnTheSwitchedHosts) {
  FleetDeploy s(3);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(FleetDeploy::App("waves: [1, 2, 100%]"));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  // v2 is ready only where the app's state folder holds no mark (the release directory is
  // <node home>/releases/web/2; an exec probe runs confined, where of the node's home only
  // the release and <node home>/state/web are seen): h2's has one.
  std::ofstream(s.hosts.NodeHome(2) + "/state/web/not-ready-here") << "";
  ASSERT_TRUE(std::filesystem::exists(s.hosts.NodeHome(2) + "/state/web/not-ready-here"));
  s.lg.App(
      FleetDeploy::App("waves: [1, 2, 100%]")
          .ProgressDeadline("3s")
          .Readiness("{ exec: [\"/usr/bin/test\", \"!\", \"-e\", "
                     "\"../../../state/web/not-ready-here\"], interval: 100ms, timeout: 1s }"));
  s.StartLoad();
  s.lg.Apply({"--param", "label=v2", "--name", "two"});
  EXPECT_EQ(s.lg.last().code, 1) << s.lg.Context();
  s.lg.WaitForIdle(60s);
  json two = s.lg.Deployment("two");
  EXPECT_EQ(two["state"], "Failed") << two.dump(2);
  EXPECT_NE(two["reason"].get<std::string>().find("h2"), std::string::npos) << two.dump(2);
  EXPECT_EQ(s.HostVersions(), (std::map<std::string, int>{{"h1", 1}, {"h2", 1}, {"h3", 1}}))
      << s.lg.Status().dump(2);
  json history = s.lg.History();
  ASSERT_GE(history.size(), 3u) << history.dump(2);
  EXPECT_EQ(history[0]["kind"], "rollback") << history.dump(2);
  EXPECT_EQ(history[0]["trigger"], "auto") << history.dump(2);
  EXPECT_EQ(history[0]["state"], "Succeeded") << history.dump(2);
  auto reverted = s.HostsActedOn(history[0]["name"]);
  EXPECT_EQ(std::count(reverted.begin(), reverted.end(), "h3"), 0)
      << s.lg.Deployment(history[0]["name"]).dump(2);
  EXPECT_NE(std::find(reverted.begin(), reverted.end(), "h1"), reverted.end());
  std::string summary;
  EXPECT_EQ(s.StopLoad(&summary), 0u) << summary;
  s.lg.Verdict(2, "bad");
}

// A host cut off while a version is deployed: within maxFailedHosts the deployment goes on
// without it and says which host failed and why; the host keeps what it ran; once its link is
// back, a reconcile deployment (trigger auto) brings it alone to the new version.
TEST(FleetDeploy, AHostCutOffDuringADeploymentKeepsItsVersionAndIsReconciledWhenBack) {
  FleetDeploy s(3);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(FleetDeploy::App("maxFailedHosts: 1"));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  // `lastgood hosts` names the apps each host runs.
  for (const auto& h : s.lg.Json({"hosts"})) EXPECT_EQ(h["apps"], json::array({"web"})) << h;
  s.lg.Run({"hosts"});
  EXPECT_EQ(CountLines(s.lg.last().out, "h1 ", " web "), 1) << s.lg.Context();
  // `lastgood logs`: one host's instances, read by its node; every host's side by side, each
  // line with its host and instance.
  s.lg.Run({"logs", "web", "--host", "h1"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_EQ(CountLines(s.lg.last().out, "h1 web-production-v1-h1-", "v1 listening"), 2)
      << s.lg.Context();
  EXPECT_EQ(s.lg.last().out.find("h2 "), std::string::npos) << s.lg.Context();
  s.lg.Run({"logs", "web"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(CountLines(s.lg.last().out, std::string(h) + " web-production-v1-" + h + "-",
                         "v1 listening"),
              2)
        << h << s.lg.Context();
  }
  s.lg.Run({"logs", "web", "--host", "h2", "-o", "json"});
  EXPECT_NE(s.lg.last().out.find(R"("host":"h2")"), std::string::npos) << s.lg.Context();
  s.lg.Run({"logs", "web", "--host", "h9"});
  EXPECT_EQ(s.lg.last().code, 4) << s.lg.Context();
  EXPECT_NE(s.lg.last().err.find("no fleet host named h9"), std::string::npos) << s.lg.Context();

  s.hosts.Cut(3);
  ASSERT_TRUE(WaitUntil([&] { return s.Reachable("h3") == false; }, 20s, 200ms))
      << s.lg.Json({"hosts"}).dump(2);
  // A host that cannot be asked: named, exit 5; the others' output is still shown.
  s.lg.Run({"logs", "web", "--host", "h3"});
  EXPECT_EQ(s.lg.last().code, 5) << s.lg.Context();
  EXPECT_NE(s.lg.last().err.find("host h3 is unreachable"), std::string::npos) << s.lg.Context();
  s.lg.Run({"logs", "web"});
  EXPECT_EQ(s.lg.last().code, 5) << s.lg.Context();
  EXPECT_EQ(CountLines(s.lg.last().out, "h2 web-production-v1-h2-", "v1 listening"), 2)
      << s.lg.Context();
  EXPECT_NE(s.lg.last().err.find("h3: host h3 is unreachable"), std::string::npos)
      << s.lg.Context();
  // `logs -f` goes on through the deployment and h3's return: each line once, h3's too.
  ProcessOptions follow_options;
  follow_options.argv = {kLastgoodBinary, "logs", "web", "-f"};
  follow_options.env = {{"LASTGOOD_HOME", s.lg.home()}};
  follow_options.unset_env = {"LASTGOOD_SERVER", "LASTGOOD_TOKEN"};
  follow_options.stdout_path = s.lg.home() + "/follow.out";
  follow_options.stderr_path = s.lg.home() + "/follow.err";
  Process follow(follow_options);

  s.lg.Apply({"--param", "label=v2", "--name", "two"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  json two = s.lg.Deployment("two");
  EXPECT_EQ(two["state"], "Succeeded") << two.dump(2);
  bool h3_failed = false;
  for (const auto& op : two["operations"]) {
    if (op["host"] == "h3" && op["state"] == "Failed") {
      h3_failed = true;
      EXPECT_NE(op["detail"].get<std::string>().find("host h3 is unreachable"), std::string::npos)
          << op.dump();
    }
  }
  EXPECT_TRUE(h3_failed) << two.dump(2);
  // h3 still runs v1, as its node records it (the link is down: the file is the witness).
  const std::string h3_state = ReadFile(s.hosts.NodeHome(3) + "/node-state.json");
  EXPECT_NE(h3_state.find("web-production-v1-h3-"), std::string::npos) << h3_state;
  EXPECT_EQ(h3_state.find("web-production-v2-h3-"), std::string::npos) << h3_state;

  s.hosts.Mend(3);
  EXPECT_TRUE(WaitUntil([&] { return s.HostVersions()["h3"] == 2; }, 90s, 500ms))
      << s.lg.Status().dump(2) << s.lg.History().dump(2);
  s.lg.WaitForIdle(30s);
  json history = s.lg.History();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["kind"], "reconcile") << history.dump(2);
  EXPECT_EQ(history[0]["trigger"], "auto") << history.dump(2);
  EXPECT_EQ(history[0]["state"], "Succeeded") << history.dump(2);
  EXPECT_EQ(s.HostsActedOn(history[0]["name"]), std::vector<std::string>{"h3"});
  EXPECT_EQ(s.HostVersions(), (std::map<std::string, int>{{"h1", 2}, {"h2", 2}, {"h3", 2}}));
  auto followed = [&](const std::string& host, const std::string& version) {
    return CountLines(ReadFile(follow_options.stdout_path),
                      host + " web-production-" + version + "-" + host + "-",
                      version + " listening");
  };
  EXPECT_TRUE(WaitUntil([&] { return followed("h3", "v2") == 2; }, 10s, 100ms))
      << ReadFile(follow_options.stdout_path) << ReadFile(follow_options.stderr_path);
  EXPECT_TRUE(follow.Running()) << "-f ended by itself";
  follow.Kill(SIGINT);
  EXPECT_TRUE(follow.Wait(5s).has_value()) << "-f did not end on SIGINT";
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_EQ(followed(h, "v1"), 2) << h << "\n" << ReadFile(follow_options.stdout_path);
    EXPECT_EQ(followed(h, "v2"), 2) << h << "\n" << ReadFile(follow_options.stdout_path);
  }
  EXPECT_NE(ReadFile(follow_options.stderr_path).find("h3: host h3 is unreachable"),
            std::string::npos)
      << ReadFile(follow_options.stderr_path);
  // Traffic reaches v2 on the host that came back.
  s.StartLoad();
  std::string summary;
  EXPECT_EQ(s.StopLoad(&summary), 0u) << summary;
}

// A route address that a host's router cannot bind (another program holds h2's port) fails
// that host's step with the router's own words, as on the controller's machine, instead of a
// deployment that succeeds unreachable there; the host whose router could bind it serves.
TEST(FleetDeploy, AHostWhoseRouterCannotBindTheRouteAddressFailsItsStepSayingWhy) {
  FleetDeploy s(2);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  const std::string port = std::to_string(kFleetPort);
  // One word: ssh hands the remote shell its arguments joined by spaces.
  auto held = s.hosts.Ssh(2, {std::string("setsid ") + kSampleBinary + " --port " + port +
                              " --host 0.0.0.0 </dev/null >/dev/null 2>&1 &"});
  ASSERT_EQ(held.code, 0) << held.out;
  ASSERT_TRUE(WaitUntil(
      [&] {
        return s.hosts.Ssh(2, {"bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port + "'"}).code == 0;
      },
      10s, 100ms));
  s.lg.App(FleetDeploy::App("waves: [1, 100%]"));
  s.lg.Apply({"--name", "one"});
  EXPECT_NE(s.lg.last().code, 0) << s.lg.Context();
  s.lg.WaitForIdle(60s);
  json one = s.lg.Deployment("one");
  EXPECT_EQ(one["state"], "Failed") << one.dump(2);
  bool said = false;
  for (const auto& op : one["operations"]) {
    if (op["host"] == "h2" && op["state"] == "Failed")
      said = said || op["detail"].get<std::string>().find(port) != std::string::npos;
  }
  EXPECT_TRUE(said) << "no failed step of h2 names the address its router could not bind\n"
                    << one.dump(2);
  // `lastgood hosts` says it too, from what h2's router reports.
  auto unbound_on = [&](const std::string& host) {
    for (const auto& h : s.lg.Json({"hosts"})) {
      if (h["name"] != host) continue;
      for (const auto& l : h["listeners"])
        if (l["bound"] == false && l["address"].get<std::string>().find(port) != std::string::npos)
          return true;
    }
    return false;
  };
  EXPECT_TRUE(WaitUntil([&] { return unbound_on("h2"); }, 10s, 200ms))
      << s.lg.Json({"hosts"}).dump(2);
  EXPECT_FALSE(unbound_on("h1")) << s.lg.Json({"hosts"}).dump(2);
  s.lg.Run({"hosts"});
  EXPECT_NE(s.lg.last().out.find("h2: its router cannot bind"), std::string::npos)
      << s.lg.Context();
  // And the app's status, host by host, from each host's router.
  auto status_unbound_on = [&](const std::string& host) {
    json st = s.lg.Status();
    for (const auto& h : st["slots"]["production"]["hosts"]) {
      if (h["name"] != host) continue;
      for (const auto& l : h["listeners"])
        if (l["bound"] == false && l["address"].get<std::string>().find(port) != std::string::npos)
          return true;
    }
    return false;
  };
  EXPECT_TRUE(status_unbound_on("h2")) << s.lg.Status().dump(2);
  EXPECT_FALSE(status_unbound_on("h1")) << s.lg.Status().dump(2);
  s.lg.Run({"status", "web"});
  EXPECT_NE(s.lg.last().out.find("NOT LISTENING on 0.0.0.0:" + port + " on host h2"),
            std::string::npos)
      << s.lg.Context();
}

// What a host's node put in force, read from its log (node.log): the backends of web's
// production slot in each table that changed what the host's router serves, oldest first.
std::vector<std::set<std::string>> TablesInForce(const std::string& node_home) {
  std::vector<std::set<std::string>> out;
  std::istringstream log(ReadFile(node_home + "/logs/node.log"));
  const std::string mark = " in force: ";
  for (std::string line; std::getline(log, line);) {
    size_t at = line.find(mark);
    if (line.find("router table ") == std::string::npos || at == std::string::npos) continue;
    std::string serving = line.substr(at + mark.size());
    serving = serving.substr(0, serving.find(';', serving.find("web/production")));
    std::set<std::string> backends;
    std::istringstream words(serving);
    for (std::string w; words >> w;) {
      if (w.rfind("v", 0) == 0 && w.find(':') != std::string::npos)
        backends.insert(w.substr(w.find(':') + 1));
    }
    out.push_back(std::move(backends));
  }
  return out;
}

// The distinct instance ids that begin with `prefix` (and end at a quote) in `text`.
std::set<std::string> IdsIn(const std::string& text, const std::string& prefix) {
  std::set<std::string> out;
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1))
    out.insert(text.substr(at, text.find('"', at) - at));
  return out;
}

// The controller SIGKILLed while a fleet deployment is in its second wave, restarted, and
// SIGKILLed again in the third: each time the deployment resumes from the record and what the
// nodes report. Counted on each host's own side (its node's log of the tables it put in
// force): each v2 instance entered the host's router once and no v1 instance came back — no
// host was switched twice; every host ends serving v2 — none forgotten; no request failed;
// and an instance a killed controller started but never recorded does not run on.
TEST(FleetDeploy, AControllerKilledMidDeploymentResumesItAndSwitchesNoHostTwice) {
  FleetDeploy s(3);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.lg.App(FleetDeploy::App("waves: [1, 2, 100%]"));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.StartLoad();
  std::vector<size_t> before;  // tables each host had put in force before v2
  for (int i = 1; i <= 3; ++i) {
    before.push_back(TablesInForce(s.hosts.NodeHome(i)).size());
    ASSERT_GT(before.back(), 0u) << "the node's log names no table of v1";
  }

  // v2 takes a while to start, so that the kill lands while h2 (the second wave) starts it.
  s.lg.App(FleetDeploy::App("waves: [1, 2, 100%]").StartupMs(1500).ProgressDeadline("20s"));
  s.lg.Apply({"--param", "label=v2", "--name", "two", "--no-wait"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  // Whether one of `host`'s own steps runs: past the release's preparation (every host's at
  // once), the host's start, readiness and switch.
  auto host_step_runs = [&](const std::string& host) {
    json d = s.lg.Deployment("two");
    if (!d.is_object()) return false;
    for (const auto& op : d["operations"]) {
      if (op["host"] == host && op["state"] == "Running" &&
          op["step"].get<std::string>().rfind("prepare", 0) != 0)
        return true;
    }
    return false;
  };
  // Killed in the second wave, and again in the third, by which time the resumed deployment
  // runs on the restarted controller.
  for (const std::string host : {"h2", "h3"}) {
    ASSERT_TRUE(WaitUntil([&] { return host_step_runs(host); }, 60s, 50ms))
        << host << "\n"
        << s.lg.Deployment("two").dump(2);
    s.lg.KillController(SIGKILL).StartController();
  }

  s.lg.WaitForIdle(90s);
  json two = s.lg.Deployment("two");
  EXPECT_EQ(two["state"], "Succeeded") << two.dump(2);
  EXPECT_EQ(s.HostVersions(), (std::map<std::string, int>{{"h1", 2}, {"h2", 2}, {"h3", 2}}))
      << s.lg.Status().dump(2);
  std::string summary;
  EXPECT_EQ(s.StopLoad(&summary), 0u) << summary;

  for (int i = 1; i <= 3; ++i) {
    const std::string home = s.hosts.NodeHome(i);
    const std::string v2 = "web-production-v2-" + FleetHosts::Name(i) + "-";
    auto tables = TablesInForce(home);
    ASSERT_GT(tables.size(), before[i - 1]) << ReadFile(home + "/logs/node.log");
    int v2_entries = 0, v1_returns = 0;
    std::set<std::string> v1_gone;
    for (size_t t = before[i - 1]; t < tables.size(); ++t) {
      const auto& prev = tables[t - 1];
      for (const auto& id : tables[t]) {
        if (!prev.count(id) && id.rfind(v2, 0) == 0) ++v2_entries;
        if (v1_gone.count(id)) ++v1_returns;
      }
      for (const auto& id : prev) {
        if (!tables[t].count(id) && id.rfind(v2, 0) != 0) v1_gone.insert(id);
      }
    }
    EXPECT_EQ(v2_entries, 2) << FleetHosts::Name(i) << "\n" << ReadFile(home + "/logs/node.log");
    EXPECT_EQ(v1_returns, 0) << FleetHosts::Name(i) << "\n" << ReadFile(home + "/logs/node.log");
    for (const auto& id : tables.back()) EXPECT_EQ(id.rfind(v2, 0), 0u) << id;
    EXPECT_EQ(tables.back().size(), 2u) << FleetHosts::Name(i);
    // An instance started by a controller killed before it recorded it does not run on: the
    // node runs v2's two instances, those its router serves, and no third.
    EXPECT_EQ(IdsIn(ReadFile(home + "/node-state.json"), v2), tables.back())
        << ReadFile(home + "/node-state.json");
  }
}

}  // namespace
}  // namespace lastgood::testutil
