// Upgrading lastgood on a fleet end to end (issue 14 §2, docs/fleets.md "Upgrading the
// nodes"): the controller is restarted as another build (testutil/other_build.h), then `lastgood
// host upgrade` replaces a namespace host's node with that build under a load sent to the
// host's router. The router is taken over by the new build (its listening sockets passed on),
// the instances keep running and are re-adopted, and no request fails.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "base/unix_http.h"
#include "testutil/fleet_hosts.h"
#include "testutil/lastgood.h"
#include "testutil/load.h"
#include "testutil/other_build.h"

// A namespace of its own: the unity build puts this file beside others with helpers of the
// same names.
namespace lastgood::testutil::fleet_upgrade {

using json = nlohmann::json;
constexpr int kPort = 8080;

// GET `target` of the node through the socket the controller forwards to it.
json AskNode(const Lastgood& lg, const std::string& host, const std::string& target) {
  auto r = UnixHttpCall(lg.home() + "/hosts/" + host + ".sock", "GET", target, "", Millis(5'000));
  if (!r.ok() || r->status != 200) return nullptr;
  return json::parse(r->body, nullptr, false);
}

// Instance id → pid, as the host's node reports them.
std::map<std::string, int> InstancePids(const Lastgood& lg, const std::string& host) {
  std::map<std::string, int> out;
  json list = AskNode(lg, host, "/v1/instances");
  if (!list.is_array()) return out;
  for (const auto& i : list) out[i["spec"]["id"]] = i["status"]["handle"]["pid"];
  return out;
}

int PidIn(const std::string& file) {
  std::string s = ReadFile(file);
  return s.empty() ? 0 : std::atoi(s.c_str());
}

bool Alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

json HostNode(Lastgood& lg, const std::string& name) {
  for (const auto& h : lg.Json({"hosts"}))
    if (h["name"] == name) return h;
  return nullptr;
}

TEST(FleetUpgrade, AHostsNodeUpgradedToAnotherBuildUnderLoadFailsNoRequestAndKeepsItsInstances) {
  FleetHosts hosts(1);
  ASSERT_TRUE(hosts.ok()) << hosts.error();
  const std::string home = hosts.NodeHome(1);
  Lastgood lg;
  lg.ServeArgs({"--ssh-config", hosts.SshConfig(), "--ui", "off"});
  lg.Given();
  lg.Run({"host", "add", "h1", "--ssh", "h1", "--node-home", home}, std::chrono::seconds(60));
  ASSERT_EQ(lg.last().code, 0) << lg.Context();
  lg.App(SampleApp().Replicas(2).Extra("route: { listen: 0.0.0.0:" + std::to_string(kPort) +
                                       " }\nhosts: [h1]\n"));
  lg.Apply();
  ASSERT_EQ(lg.last().code, 0) << lg.Context();
  const std::string old_build = lg.Json({"version"}).value("buildId", "");
  ASSERT_EQ(HostNode(lg, "h1")["node"]["buildId"], old_build);
  auto pids = InstancePids(lg, "h1");
  ASSERT_EQ(pids.size(), 2u) << AskNode(lg, "h1", "/v1/instances");
  const int old_worker = PidIn(home + "/router.pid"),
            old_keeper = PidIn(home + "/router-keeper.pid");
  ASSERT_TRUE(Alive(old_worker) && Alive(old_keeper));

  // lastgood is upgraded on the controller's machine: serve restarts as another build.
  const std::string other = OtherBuild(lg.home(), old_build);
  ASSERT_FALSE(other.empty()) << "the build id's bytes are not in the binary";
  lg.StopController(SIGTERM);
  lg.ServeBinary(other).StartController();
  ASSERT_TRUE(WaitUntil([&] { return HostNode(lg, "h1")["reachable"] == true; }, 20s, 100ms));

  // `hosts` says which node runs another build than the controller, and what to do.
  lg.Run({"hosts"});
  EXPECT_NE(lg.last().out.find("lastgood host upgrade h1"), std::string::npos) << lg.Context();

  SteadyLoad load(LoadOptions{.port = kPort,
                              .host = hosts.Address(1),
                              .threads = 2,
                              .rate = 200,
                              .check_before_reuse = true});
  ASSERT_TRUE(WaitUntil([&] { return load.Served() > 20; }, 10s)) << "no traffic flows";
  auto started = std::chrono::steady_clock::now();
  lg.Run({"host", "upgrade", "h1"}, std::chrono::seconds(60));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(lg.last().code, 0) << lg.Context() << ReadFile(home + "/logs/node.log")
                               << ReadFile(home + "/logs/router.log");
  EXPECT_NE(lg.last().out.find("its router taken over by build"), std::string::npos)
      << lg.Context();
  const std::string upgraded = lg.last().out;
  // The old router drains and exits; the load goes on through the new one.
  bool old_gone = WaitUntil([&] { return !Alive(old_worker) && !Alive(old_keeper); }, 15s, 20ms);
  size_t served = load.Served();
  EXPECT_TRUE(WaitUntil([&] { return load.Served() > served + 20; }, 10s));
  LoadReport r = load.Stop();

  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_TRUE(old_gone) << "the router of the old build is still running";
  json node = HostNode(lg, "h1")["node"];
  EXPECT_NE(node["buildId"], old_build) << node;
  EXPECT_EQ(AskNode(lg, "h1", "/v1/router/health")["buildId"], node["buildId"]);
  EXPECT_EQ(InstancePids(lg, "h1"), pids) << "the instances were restarted, not re-adopted";
  EXPECT_EQ(std::filesystem::read_symlink(home + "/bin/lastgood").string(),
            "lastgood-" + node["buildId"].get<std::string>());
  std::cout << "[ measured ] node upgrade under load: " << r.total << " requests, " << r.failed
            << " failed; `host upgrade h1` took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms; it said: " << upgraded;

  lg.Run({"hosts"});
  EXPECT_EQ(lg.last().out.find("host upgrade"), std::string::npos) << lg.Context();

  // Once more is a no-op that says so.
  lg.Run({"host", "upgrade", "--all"}, std::chrono::seconds(60));
  EXPECT_EQ(lg.last().code, 0) << lg.Context();
  EXPECT_NE(lg.last().out.find("already runs"), std::string::npos) << lg.Context();
}

}  // namespace lastgood::testutil::fleet_upgrade
