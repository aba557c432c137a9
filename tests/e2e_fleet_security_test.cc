// What the earlier issues gave one machine, on fleet hosts (issue 14 §2, docs/fleets.md
// "Secrets on hosts" and "Confinement on hosts"): an app's secrets reach the instances of
// every host that runs it and no file of the node holds them; instances on a host run confined
// as on the controller's machine — as the user run.user names, unable to read the node's home
// — and a host that cannot apply run.user fails its step saying why.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "testutil/fleet_controller.h"
#include "testutil/fleet_hosts.h"
#include "testutil/http.h"
#include "testutil/lastgood.h"

// A namespace of its own: the e2e tests are compiled in unity batches.
namespace lastgood::testutil::fleet_security {

namespace fs = std::filesystem;

// Where every host's router takes the app's traffic, in its own network namespace.
constexpr int kFleetPort = 8080;

// A controller (with `serve_args`) and N hosts h1..hN added, each labelled role=web.
struct SecureFleet {
  SecureFleet(int n, std::vector<std::string> serve_args = {}) : hosts(n) {
    if (!hosts.ok()) return;
    ServeWithHosts(lg, hosts, std::move(serve_args));
  }
  FleetHosts hosts;
  Lastgood lg;
};

// What GET /env/NAME of the sample app answers through host i's router, or "".
std::string EnvThrough(const FleetHosts& hosts, int i, const std::string& name) {
  auto r = HttpGet(hosts.Address(i), kFleetPort, "/env/" + name);
  if (!r.ok() || r.status != 200) return "";
  return r.body.substr(0, r.body.find('\n'));
}

// Every regular file under `dir` whose bytes hold `needle`, but the instances' own output
// logs (what the program prints is its own business, as on the controller's machine).
std::vector<std::string> FilesHolding(const std::string& dir, const std::string& needle) {
  namespace fs = std::filesystem;
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec || !it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    const bool program_output = it->path().parent_path().filename() == "logs" &&
                                name != "node.log" &&
                                (name.ends_with(".out.log") || name.ends_with(".err.log"));
    if (program_output) continue;
    if (ReadFile(it->path().string()).find(needle) != std::string::npos)
      found.push_back(it->path().string());
  }
  return found;
}

// docs/fleets.md, "Secrets on hosts": a secret reaches the instances on every host, a
// rotation then an apply reaches them again, and no file of any node's home (its state, its
// log, its key, its releases) nor any answer of the controller holds a value.
TEST(FleetSecurity, ASecretReachesEveryHostsInstancesAndNoFileOfTheNodesHoldsIt) {
  SecureFleet s(2);
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  std::mt19937_64 rng{std::random_device{}()};
  const std::string first = "LgSecret-" + std::to_string(rng()) + "-one";
  const std::string second = "LgSecret-" + std::to_string(rng()) + "-two";
  std::string seen;  // every byte any command printed
  s.lg.RunWithInput({"secret", "set", "web", "db-password"}, first + "\n");
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.App(SampleApp()
               .Replicas(2)
               .Env("DB_PASSWORD: { secret: db-password }")
               .Extra("route: { listen: 0.0.0.0:" + std::to_string(kFleetPort) +
                      " }\nhosts: { selector: { role: web } }"));
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  seen += s.lg.last().out + s.lg.last().err;
  for (int i = 1; i <= 2; ++i) EXPECT_EQ(EnvThrough(s.hosts, i, "DB_PASSWORD"), first) << i;

  s.lg.RunWithInput({"secret", "set", "web", "db-password"}, second + "\n");
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  EXPECT_NE(s.lg.last().out.find("secret db-password was set after"), std::string::npos)
      << s.lg.Context();
  seen += s.lg.last().out + s.lg.last().err;
  for (int i = 1; i <= 2; ++i) {
    // Both instances of the host: the router spreads the requests.
    for (int n = 0; n < 4; ++n) EXPECT_EQ(EnvThrough(s.hosts, i, "DB_PASSWORD"), second) << i;
  }

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"hosts", "-o", "json"}, {"status", "web", "-o", "json"}, {"history", "web"}}) {
    s.lg.Run(args);
    seen += s.lg.last().out + s.lg.last().err;
  }
  EXPECT_EQ(seen.find(first), std::string::npos) << seen;
  EXPECT_EQ(seen.find(second), std::string::npos) << seen;
  for (int i = 1; i <= 2; ++i) {
    for (const auto& value : {first, second}) {
      EXPECT_EQ(FilesHolding(s.hosts.NodeHome(i), value), std::vector<std::string>{})
          << "on " << FleetHosts::Name(i);
    }
  }
}

// The attack of docs/security.md ("A deployer's code … reads lastgood.db") on a host: the
// instance reports who it runs as and what of the node's home it could read or write, then
// serves as the sample app; its exec readiness probe reports the same of itself.
std::string ProbingApp(const std::string& node_home, const std::string& user) {
  std::string script =
      "home=" + node_home +
      "; out=$LASTGOOD_STATE_DIR/report; { echo \"uid: $(id -u)\"; "
      "cat $home/node-state.json >/dev/null 2>&1 && echo 'state: read' || echo 'state: refused'; "
      "cat $home/secrets.key >/dev/null 2>&1 && echo 'key: read' || echo 'key: refused'; "
      "touch $home/pwned 2>/dev/null && echo 'home: written' || echo 'home: refused'; "
      "echo \"state folder: $(echo ok > $LASTGOOD_STATE_DIR/w && cat $LASTGOOD_STATE_DIR/w)\"; "
      "} > $out.tmp 2>&1; mv $out.tmp $out; exec ./lastgood-sample --port \"$PORT\"";
  // Its exec readiness probe, which the node runs, reports the same once the instance has.
  std::string probe =
      "test -f $LASTGOOD_STATE_DIR/report || exit 1; { echo \"uid: $(id -u)\"; cat " + node_home +
      "/node-state.json >/dev/null 2>&1 && echo 'state: read' || echo 'state: refused'; } > "
      "$LASTGOOD_STATE_DIR/probe.tmp; mv $LASTGOOD_STATE_DIR/probe.tmp "
      "$LASTGOOD_STATE_DIR/probe";
  return "app: pwn\n"
         "run:\n"
         "  artifact: " +
         std::string(kSampleBinary) +
         "\n"
         "  command: [\"/bin/sh\", \"-c\", " +
         nlohmann::json(script).dump() +
         "]\n"
         "  user: " +
         user +
         "\n"
         "  stopGrace: 1s\n"
         "health:\n"
         "  readiness: { exec: [\"/bin/sh\", \"-c\", " +
         nlohmann::json(probe).dump() +
         "], interval: 100ms, timeout: 2s, failureThreshold: 3 }\n"
         "route: { listen: 0.0.0.0:" +
         std::to_string(kFleetPort) +
         " }\n"
         "hosts: [h1]\n"
         "progressDeadline: 10s\n";
}

// docs/fleets.md, "Confinement on hosts": the node (root on its host) runs an instance as the
// user run.user names, in namespaces that hide the node's home; a run.user the host does not
// have fails that host's step, naming the user and why, and the host keeps serving.
TEST(FleetSecurity, AnInstanceOnAHostRunsAsItsRunUserAndCannotReadTheNodesHome) {
  SecureFleet s(1, {"--run-users", "nobody,lg-no-such-user"});
  ASSERT_TRUE(s.hosts.ok()) << s.hosts.error();
  const std::string home = s.hosts.NodeHome(1);
  s.lg.Manifest(ProbingApp(home, "nobody"), "pwn");
  s.lg.Apply();
  ASSERT_EQ(s.lg.last().code, 0) << s.lg.Context();
  const std::string report = home + "/state/pwn/report";
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(report); }, std::chrono::seconds(10)))
      << "the instance never reported";
  EXPECT_EQ(ReadFile(report),
            "uid: 65534\n"
            "state: refused\n"
            "key: refused\n"
            "home: refused\n"
            "state folder: ok\n");
  EXPECT_FALSE(fs::exists(home + "/pwned"));
  EXPECT_EQ(ReadFile(home + "/state/pwn/probe"),
            "uid: 65534\n"
            "state: refused\n")
      << "the exec readiness probe the node ran";
  EXPECT_TRUE(
      WaitUntil([&] { return HttpGet(s.hosts.Address(1), kFleetPort, "/healthz").status == 200; },
                std::chrono::seconds(10)));

  // A user the host does not have: h1's step fails with the node's words.
  s.lg.Manifest(ProbingApp(home, "lg-no-such-user"), "pwn");
  s.lg.Apply({"--name", "ghost"});
  EXPECT_NE(s.lg.last().code, 0) << s.lg.Context();
  auto ghost = s.lg.Deployment("ghost", "pwn");
  ASSERT_TRUE(ghost.is_object()) << s.lg.Context();
  EXPECT_EQ(ghost["state"], "Failed") << ghost.dump(2);
  bool named = false;
  for (const auto& op : ghost["operations"]) {
    named = named ||
            (op["host"] == "h1" && op["state"] == "Failed" && op["detail"].is_string() &&
             op["detail"].get<std::string>().find(
                 "run.user 'lg-no-such-user' is not a user of this host") != std::string::npos);
  }
  EXPECT_TRUE(named) << ghost.dump(2);
  EXPECT_EQ(HttpGet(s.hosts.Address(1), kFleetPort, "/healthz").status, 200)
      << "the host stopped serving the version it ran";
}

}  // namespace lastgood::testutil::fleet_security
