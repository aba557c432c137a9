// Fleet hosts end to end (issue 14, docs/fleets.md): the real controller reaches namespace
// hosts running Debian's sshd with the real ssh client, installs its own binary there as the
// node, lists the hosts with their reachability, refuses a host whose key changed, sees a cut
// link and reconnects when it is mended, and removes a host only once nothing runs there.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/unix_http.h"
#include "testutil/fleet_hosts.h"
#include "testutil/lastgood.h"

namespace lastgood::testutil {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A controller whose ssh uses the test hosts' ssh_config.
struct FleetScenario {
  explicit FleetScenario(int hosts) : hosts(hosts) {
    if (!this->hosts.ok()) return;
    lg.ServeArgs({"--ssh-config", this->hosts.SshConfig(), "--ui", "off"});
    lg.Given();
  }
  // `lastgood host add hI --ssh hI --node-home … args…`
  Lastgood& Add(int i, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {
        "host",           "add", FleetHosts::Name(i), "--ssh", FleetHosts::Name(i), "--node-home",
        hosts.NodeHome(i)};
    argv.insert(argv.end(), args.begin(), args.end());
    return lg.Run(argv, std::chrono::seconds(60));
  }
  json Host(const std::string& name) {
    json list = lg.Json({"hosts"});
    for (const auto& h : list)
      if (h["name"] == name) return h;
    return nullptr;
  }
  FleetHosts hosts;
  Lastgood lg;
};

TEST(Fleet, HostAddInstallsTheControllersOwnNodeAndHostsListsItReachable) {
  FleetScenario s(2);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.Add(1, {"--label", "role=web", "--label", "zone=a"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_NE(s.lg.last().out.find("host h1 added"), std::string::npos) << s.lg.Context();
  s.Add(2, {"--label", "role=web"});
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();

  json hosts = s.lg.Json({"hosts"});
  ASSERT_EQ(hosts.size(), 2u) << hosts;
  // Each node names its lastgood as `lastgood version -o json` does: release, build, commit.
  json version = s.lg.Json({"version"});
  ASSERT_TRUE(version.is_object()) << version;
  ASSERT_NE(version["version"], "dev") << version;
  for (const auto& h : hosts) {
    EXPECT_EQ(h["reachable"], true) << h;
    EXPECT_EQ(h["nodeVersion"], version["version"]) << h;
    EXPECT_EQ(h["node"], version) << h;
    EXPECT_FALSE(h["lastSeen"].is_null()) << h;
    EXPECT_EQ(h["labels"]["role"], "web") << h;
    EXPECT_EQ(h["apps"], json::array()) << h;  // nothing deployed yet
  }
  s.lg.Run({"hosts"});
  EXPECT_NE(s.lg.last().out.find(version["version"].get<std::string>() + " (" +
                                 version["buildId"].get<std::string>().substr(0, 12) + ")"),
            std::string::npos)
      << s.lg.Context();
  EXPECT_EQ(hosts[0]["labels"]["zone"], "a");
  EXPECT_EQ(hosts[0]["ssh"], "h1");
  // The node on each host runs the controller's own binary, copied there, in the host's
  // network namespace (its own address).
  EXPECT_TRUE(fs::exists(s.hosts.NodeHome(1) + "/bin/lastgood"));
  auto ps = s.hosts.Ssh(2, {"cat", s.hosts.NodeHome(2) + "/logs/node.log"});
  EXPECT_NE(ps.out.find("serving " + s.hosts.NodeHome(2) + "/node.sock"), std::string::npos)
      << ps.out;
  // How the node confines deployed code is in `hosts`, as its own log says it.
  ASSERT_TRUE(hosts[1]["confinement"].is_object()) << hosts[1];
  EXPECT_NE(hosts[1]["confinement"]["mode"].get<std::string>(), "") << hosts[1];
  EXPECT_NE(ps.out.find("confinement of deployed code: " +
                        hosts[1]["confinement"]["detail"].get<std::string>()),
            std::string::npos)
      << ps.out << hosts[1];

  // Adding it again is a conflict; a name or label that is not plain is refused up front.
  s.Add(1);
  EXPECT_EQ(s.lg.last().code, 3) << s.lg.Context();
  s.lg.Run({"host", "add", "Bad_Name", "--ssh", "h1"});
  EXPECT_EQ(s.lg.last().code, 2) << s.lg.Context();
  s.lg.Run({"host", "add", "h9", "--ssh", "-oProxyCommand=touch /tmp/pwned"});
  EXPECT_EQ(s.lg.last().code, 2) << s.lg.Context();

  // A restarted controller reopens its connections by itself.
  s.lg.StopController(SIGTERM);
  s.lg.StartController();
  EXPECT_TRUE(WaitUntil([&] { return s.Host("h2")["reachable"] == true; }, 20s, 200ms))
      << s.lg.Json({"hosts"});
}

TEST(Fleet, AnUnknownHostKeyIsRefusedUnlessAcceptedAndAChangedOneAlways) {
  FleetScenario s(1);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  const std::string known = s.hosts.Dir() + "/known_hosts";
  const std::string real_key = ReadFile(known);
  { std::ofstream(known, std::ios::trunc) << ""; }
  s.Add(1);
  EXPECT_EQ(s.lg.last().code, 5) << s.lg.Context();
  EXPECT_NE(s.lg.last().err.find("Host key verification failed"), std::string::npos)
      << s.lg.Context();
  EXPECT_TRUE(s.lg.Json({"hosts"}).empty());

  // A key that is not the host's (as after a reinstall, or a machine in the middle).
  std::string other = s.hosts.Dir() + "/other_key";
  ProcessOptions o;
  o.argv = {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other};
  Process(o).Wait(std::chrono::seconds(20));
  std::string pub = ReadFile(other + ".pub");
  {
    std::ofstream(known, std::ios::trunc)
        << s.hosts.Address(1) << " " << pub.substr(0, pub.rfind(' ')) << "\n";
  }
  s.Add(1, {"--accept-new-host-key"});
  EXPECT_EQ(s.lg.last().code, 5) << s.lg.Context();
  EXPECT_NE(s.lg.last().err.find("IDENTIFICATION HAS CHANGED"), std::string::npos)
      << s.lg.Context();

  // First contact accepted on request: the key is recorded, and the host added.
  { std::ofstream(known, std::ios::trunc) << ""; }
  s.Add(1, {"--accept-new-host-key"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_NE(ReadFile(known).find(s.hosts.Address(1)), std::string::npos);
  (void)real_key;
}

TEST(Fleet, ACutLinkMakesTheHostUnreachableAndItIsReconnectedWhenMended) {
  FleetScenario s(1);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.Add(1);
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.hosts.Cut(1);
  EXPECT_TRUE(WaitUntil([&] { return s.Host("h1")["reachable"] == false; }, 20s, 200ms))
      << s.Host("h1");
  json down = s.Host("h1");
  EXPECT_TRUE(down.contains("problem")) << down;
  s.lg.Run({"hosts"});
  EXPECT_NE(s.lg.last().out.find("h1: "), std::string::npos) << s.lg.Context();
  s.hosts.Mend(1);
  EXPECT_TRUE(WaitUntil([&] { return s.Host("h1")["reachable"] == true; }, 40s, 200ms))
      << s.Host("h1");
}

TEST(Fleet, HostRemoveRefusesWhileInstancesRunThereUnlessDrained) {
  FleetScenario s(1);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  s.Add(1);
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  // An instance on h1, started through the socket the controller forwards to its node.
  const std::string sock = s.lg.home() + "/hosts/h1.sock";
  const std::string release = s.hosts.NodeHome(1) + "/releases/web/1";
  fs::create_directories(release);
  json spec = {{"id", "web-production-1-a"}, {"argv", {"/bin/sleep", "300"}}, {"cwd", release}};
  auto put =
      UnixHttpCall(sock, "PUT", "/v1/instances/web-production-1-a", spec.dump(), Millis(15'000));
  ASSERT_TRUE(put.ok() && put->status == 200) << (put.ok() ? put->body : put.error().message);
  int pid = json::parse(put->body)["pid"];

  s.lg.Run({"host", "remove", "h1"});
  EXPECT_EQ(s.lg.last().code, 3) << s.lg.Context();
  EXPECT_NE(s.lg.last().err.find("--drain"), std::string::npos) << s.lg.Context();
  EXPECT_EQ(::kill(pid, 0), 0) << "a refused remove stopped the instance";

  s.lg.Run({"host", "remove", "h1", "--drain"});
  EXPECT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
        return stat.empty() || stat.find(") Z") != std::string::npos;
      },
      10s));
  EXPECT_TRUE(s.lg.Json({"hosts"}).empty());
  s.lg.Run({"host", "remove", "h1"});
  EXPECT_EQ(s.lg.last().code, 4) << s.lg.Context();
}

}  // namespace
}  // namespace lastgood::testutil

namespace lastgood::testutil {
namespace {

TEST(FleetManifest, AManifestNamingHostsThatAreNotRegisteredIsRefusedAndLeavesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp().Extra("hosts: [h1, h2]\nwaves: [1, 100%]\nmaxFailedHosts: 0"));
  lg.When().Apply({"-o", "json"});
  EXPECT_EQ(lg.last().code, 4) << lg.Context();
  EXPECT_EQ(lg.last().ErrorJson()["field"], "hosts[0]") << lg.Context();
  EXPECT_NE(lg.last().err.find("h1"), std::string::npos) << lg.Context();
  EXPECT_TRUE(lg.Json({"apps"}).empty()) << "a refused apply left an app behind";
}

TEST(FleetManifest, FleetFieldsAreCheckedWithTheirFieldAndLine) {
  Lastgood lg;
  lg.Given().App(SampleApp().Extra("hosts: [h1, h2]\nwaves: [2, 1]"));
  lg.When().Apply({"-o", "json"});
  EXPECT_EQ(lg.last().code, 2) << lg.Context();
  EXPECT_EQ(lg.last().ErrorJson()["field"], "waves[1]") << lg.Context();
  EXPECT_GT(lg.last().ErrorJson()["line"].get<int>(), 10) << lg.Context();
}

}  // namespace
}  // namespace lastgood::testutil
