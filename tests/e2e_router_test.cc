// End-to-end: the router under a steady load (issue 3, item 7; DESIGN.md section 3). A
// rolling update, a rollback inside keepPrevious, a failed deployment and a direct table
// switch lose no request; the router keeps serving while the controller is killed and
// restarted; a killed router is restarted by the controller, and a router started alone
// comes back with its table from disk. Real controller, router and sample app
// (tests/testutil/lastgood.h), load from tests/testutil/load.h, all on 127.0.0.1.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <iostream>
#include <map>
#include <thread>

#include "testutil/lastgood.h"
#include "testutil/load.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::FreePort;
using lastgood::testutil::HttpGet;
using lastgood::testutil::HttpResponse;
using lastgood::testutil::kLastgoodBinary;
using lastgood::testutil::kSampleBinary;
using lastgood::testutil::Lastgood;
using lastgood::testutil::LoadClock;
using lastgood::testutil::LoadOptions;
using lastgood::testutil::LoadReport;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::SampleApp;
using lastgood::testutil::SteadyLoad;
using lastgood::testutil::WaitUntil;
using nlohmann::json;

// Enough to see every switch many times over, little enough for two shared cores.
constexpr int kLoadThreads = 4;
constexpr double kLoadRate = 400;
// How long a load runs on after a change, so that "only the new version serves" is seen.
constexpr auto kAfterChange = 300ms;

// The sample app behind the router on 127.0.0.1:port, its previous version kept warm.
std::string RoutedManifest(const SampleApp& app, int port) {
  std::string yaml = app.Yaml();
  // SampleApp writes a rollback block of its own; keepPrevious joins it (a second
  // `rollback:` key would be a duplicate).
  const std::string block = "\nrollback:\n";
  size_t at = yaml.find(block);
  EXPECT_NE(at, std::string::npos) << yaml;
  if (at != std::string::npos) yaml.insert(at + block.size(), "  keepPrevious: 10m\n");
  return yaml + "route:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
}

SteadyLoad* StartLoad(std::unique_ptr<SteadyLoad>& holder, int port) {
  holder = std::make_unique<SteadyLoad>(
      LoadOptions{.port = port, .threads = kLoadThreads, .rate = kLoadRate});
  return holder.get();
}

// Waits until the load has had `n` successful requests.
bool TrafficFlows(const SteadyLoad& load, size_t n = 40) {
  size_t base = load.Served();
  return WaitUntil([&] { return load.Served() >= base + n; }, 5s, 5ms);
}

double MillisBetween(LoadClock::time_point from, LoadClock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

int RouterPid(const Lastgood& lg) { return std::atoi(ReadFile(lg.home() + "/router.pid").c_str()); }
int KeeperPid(const Lastgood& lg) {
  return std::atoi(ReadFile(lg.home() + "/router-keeper.pid").c_str());
}

bool Alive(int pid) {
  return pid > 0 && ::kill(pid, 0) == 0 &&
         ReadFile("/proc/" + std::to_string(pid) + "/stat").find(") Z") == std::string::npos;
}

// The persisted table without its generation (a republished table has a newer one).
json TableOnDisk(const Lastgood& lg) {
  json t = json::parse(ReadFile(lg.home() + "/router-table.json"), nullptr, false);
  if (t.is_object()) t.erase("generation");
  return t;
}

// id → pid of the production slot's instances.
std::map<std::string, int> InstanceIds(Lastgood& lg) {
  std::map<std::string, int> ids;
  for (const auto& i : lg.Instances()) ids[i.id] = i.pid;
  return ids;
}

// One HTTP/1.1 request on a unix socket (the router's control socket), Connection: close,
// bounded by `timeout`. Returns {status, body}; status 0 on a transport error.
std::pair<int, std::string> ControlRequest(const std::string& socket_path,
                                           const std::string& method, const std::string& target,
                                           const std::string& body = "",
                                           std::chrono::milliseconds timeout = 5s) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {0, "socket failed"};
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {0, "connect failed"};
  }
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: router\r\nConnection: close\r\n" +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[4096];
  while (response.size() < (1u << 20)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t head_end = response.find("\r\n\r\n");
  if (response.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) return {0, response};
  return {std::atoi(response.c_str() + 9), response.substr(head_end + 4)};
}

TEST(Router, RollingUpdateUnderLoadMovesAllTrafficToTheNewVersionWithoutAFailedRequest) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(RoutedManifest(SampleApp().Replicas(2), port)).Applied();
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  ASSERT_TRUE(TrafficFlows(*load)) << load->Stop().Summary();

  lg.When().Apply({"--param", "label=v2"});
  auto done = LoadClock::now();
  std::this_thread::sleep_for(kAfterChange);
  LoadReport r = load->Stop();

  lg.Then().ExitCode(0);
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_GT(r.per_label["v1"], 0u) << r.Summary();
  EXPECT_GT(r.ServedBySince("v2", done), 0u) << r.Summary();
  EXPECT_EQ(r.ServedBySince("v1", done), 0u) << "v1 still served after the update\n" << r.Summary();
  EXPECT_EQ(r.per_label.size(), 2u) << "only v1 and v2 answer\n" << r.Summary();
}

// An instance that leaves the table is stopped only once the router reports its requests
// done: a request slower than the app's own SIGTERM grace (the sample finishes in-flight
// work for up to 1 s) still gets its answer from the old version.
TEST(Router, ARollingUpdateStopsTheOldInstanceOnlyAfterItsSlowRequestIsAnswered) {
  Lastgood lg;
  int port = FreePort();
  std::string yaml = SampleApp().Param("latencyMs", "0").Yaml();
  const std::string last_flag = "\"--healthy\", \"${params.healthy}\"]";
  ASSERT_NE(yaml.find(last_flag), std::string::npos) << yaml;
  yaml.replace(yaml.find(last_flag), last_flag.size(),
               "\"--healthy\", \"${params.healthy}\", \"--latency-ms\", \"${params.latencyMs}\"]");
  yaml += "route:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  lg.Given().Manifest(yaml).Applied({"--param", "latencyMs=2500"});

  std::thread slow_client;
  HttpResponse slow;
  slow_client = std::thread([&] { slow = HttpGet("127.0.0.1", port, "/", {}, 10s); });
  std::this_thread::sleep_for(300ms);  // the request is at v1 now
  lg.When().Apply({"--param", "label=v2"}).Then().ExitCode(0);
  slow_client.join();

  EXPECT_TRUE(slow.ok()) << slow.error;
  EXPECT_EQ(slow.status, 200) << slow.body;
  EXPECT_EQ(slow.body.substr(0, 3), "v1\n") << slow.body;
  lg.Then().Serves("v2");
}

TEST(Router, RollbackInsideKeepPreviousUnderLoadIsOneSwitchWithoutAFailedRequest) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(RoutedManifest(SampleApp().Replicas(2), port)).Applied();
  lg.Given().Applied({"--param", "label=v2"});
  auto pids = lg.InstancePids();
  ASSERT_EQ(pids.size(), 4u) << "v1 is kept warm beside v2\n" << lg.Status().dump(2);
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  ASSERT_TRUE(TrafficFlows(*load)) << load->Stop().Summary();

  auto command = LoadClock::now();
  lg.When().Run({"rollback", "web"});
  auto done = LoadClock::now();
  std::this_thread::sleep_for(kAfterChange);
  LoadReport r = load->Stop();

  lg.Then().ExitCode(0);
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  auto last_v2 = r.LastStartOf("v2");
  ASSERT_TRUE(last_v2.has_value()) << r.Summary();
  double switch_ms = MillisBetween(command, *last_v2);
  std::cout << "[ measured ] rollback inside keepPrevious: last request to v2 began " << switch_ms
            << " ms after the command started (the command took " << MillisBetween(command, done)
            << " ms); " << r.total << " requests\n";
  EXPECT_LT(switch_ms, 1000.0) << r.Summary();
  EXPECT_EQ(r.ServedBySince("v2", done), 0u) << r.Summary();
  EXPECT_GT(r.ServedBySince("v1", done), 0u) << r.Summary();
  EXPECT_EQ(lg.InstancePids(), pids) << "the warm v1 instances were reused, none started\n"
                                     << lg.Status().dump(2);
}

TEST(Router, KeepsServingWhileTheControllerIsKilledAndRestartedWithoutDuplicatingInstances) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(RoutedManifest(SampleApp().Replicas(2), port)).Applied();
  auto ids = InstanceIds(lg);
  ASSERT_EQ(ids.size(), 2u) << lg.Status().dump(2);
  auto pids = lg.InstancePids();
  int router = RouterPid(lg);
  ASSERT_TRUE(Alive(router));
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  ASSERT_TRUE(TrafficFlows(*load)) << load->Stop().Summary();

  lg.When().KillController(SIGKILL);
  auto killed = LoadClock::now();
  std::this_thread::sleep_for(1s);
  auto restarting = LoadClock::now();
  lg.And().StartController();
  // The restarted controller re-adopts the instances and republishes the table.
  bool adopted = WaitUntil([&] { return InstanceIds(lg) == ids; }, 5s, 50ms);
  std::this_thread::sleep_for(kAfterChange + 700ms);  // past the router check (every 500 ms)
  LoadReport r = load->Stop();

  EXPECT_EQ(r.failed, 0u) << r.Summary();
  auto [without_controller, failed_without] = r.Between(killed, restarting);
  EXPECT_GT(without_controller, 100u) << "the router served while no controller ran\n"
                                      << r.Summary();
  EXPECT_EQ(failed_without, 0u) << r.Summary();
  EXPECT_TRUE(adopted) << lg.Status().dump(2);
  EXPECT_EQ(InstanceIds(lg), ids) << "same instance ids and pids\n" << lg.Status().dump(2);
  EXPECT_EQ(lg.InstancePids(), pids) << "no instance was started twice";
  EXPECT_EQ(RouterPid(lg), router) << "the running router was left be";
  EXPECT_TRUE(Alive(router));
  EXPECT_EQ(r.per_label.size(), 1u) << r.Summary();
}

TEST(Router, KilledRouterIsRestartedByTheControllerWithTheSameTable) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(RoutedManifest(SampleApp().Replicas(2), port)).Applied();
  json table = TableOnDisk(lg);
  ASSERT_TRUE(table.is_object()) << ReadFile(lg.home() + "/router-table.json");
  int router = RouterPid(lg);
  ASSERT_TRUE(Alive(router));
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  ASSERT_TRUE(TrafficFlows(*load)) << load->Stop().Summary();

  auto killed = LoadClock::now();
  // Every router process: the keeper too, which would otherwise start another worker itself
  // (tests/e2e_router_restart_test.cc).
  ASSERT_EQ(::kill(KeeperPid(lg), SIGKILL), 0);
  ASSERT_EQ(::kill(router, SIGKILL), 0);
  bool back = WaitUntil(
      [&] {
        int now = RouterPid(lg);
        return now != router && Alive(now) && Lastgood::Label(port) == "v1";
      },
      5s, 10ms);
  auto served_again = LoadClock::now();
  std::this_thread::sleep_for(kAfterChange);
  LoadReport r = load->Stop();

  ASSERT_TRUE(back) << "no new router served within 5s\n"
                    << ReadFile(lg.home() + "/serve.err.1") << r.Summary();
  auto [in_gap, failed_in_gap] = r.Between(killed, served_again);
  std::cout << "[ measured ] router killed: served again after "
            << MillisBetween(killed, served_again) << " ms; " << failed_in_gap << " of " << in_gap
            << " requests in the gap failed\n";
  auto [after, failed_after] = r.Between(served_again, LoadClock::now());
  EXPECT_GT(after, 0u) << r.Summary();
  EXPECT_EQ(failed_after, 0u) << r.Summary();
  EXPECT_EQ(r.per_label.size(), 1u) << r.Summary();
  EXPECT_EQ(TableOnDisk(lg), table) << "the same routes and backends";
}

TEST(Router, RestartedWhileTheControllerIsStoppedComesBackWithItsTableFromDisk) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(RoutedManifest(SampleApp().Replicas(2), port)).Applied();
  int router = RouterPid(lg);
  ASSERT_TRUE(Alive(router));
  lg.Given().KillController(SIGTERM);
  EXPECT_EQ(Lastgood::Label(port), "v1") << "the router outlives the controller";
  ASSERT_EQ(::kill(KeeperPid(lg), SIGKILL), 0);
  ASSERT_EQ(::kill(router, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return !Alive(router); }, 2s));
  EXPECT_FALSE(HttpGet("127.0.0.1", port, "/").ok()) << "nothing listens any more";

  ProcessOptions o;
  o.argv = {kLastgoodBinary, "router", "--home", lg.home(), "--threads", "2"};
  o.stderr_path = lg.home() + "/router-by-hand.err";
  Process restarted(o);
  ASSERT_GT(restarted.pid(), 0) << restarted.error();

  bool serves = WaitUntil([&] { return Lastgood::Label(port) == "v1"; }, 5s, 10ms);
  ASSERT_TRUE(serves) << ReadFile(o.stderr_path);
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  std::this_thread::sleep_for(kAfterChange);
  LoadReport r = load->Stop();
  EXPECT_GT(r.total, 20u) << r.Summary();
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_EQ(r.per_label.size(), 1u) << r.Summary();
  EXPECT_TRUE(restarted.Running());
}

TEST(Router, FailedDeploymentUnderLoadNeverGetsTrafficAndLosesNoRequest) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(RoutedManifest(SampleApp().Replicas(2), port)).Applied();
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  ASSERT_TRUE(TrafficFlows(*load)) << load->Stop().Summary();

  lg.When().Apply({"--param", "label=v2", "--param", "crashOnStart=true"});
  lg.And().WaitForIdle();
  auto done = LoadClock::now();
  std::this_thread::sleep_for(kAfterChange);
  LoadReport r = load->Stop();

  lg.Then().ExitCode(1).Verdict(2, "bad");
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_EQ(r.per_label.count("v2"), 0u) << r.Summary();
  EXPECT_GT(r.ServedBySince("v1", done), 0u) << r.Summary();
}

// The router alone, driven over its control socket as the controller drives it.
TEST(Router, TableSwitchFromOneVersionToTheOtherUnderLoadLosesNoRequest) {
  Lastgood lg;  // a temporary home; no controller
  int port = FreePort(), a = FreePort(), b = FreePort();
  std::vector<Process> apps;
  for (auto [label, app_port] : {std::pair{"v1", a}, std::pair{"v2", b}}) {
    ProcessOptions o;
    o.argv = {kSampleBinary, "--port", std::to_string(app_port), "--label", label};
    o.cwd = lg.home();
    o.stdout_path = lg.home() + "/sample-" + label + ".out";
    o.stderr_path = lg.home() + "/sample-" + label + ".err";
    apps.emplace_back(o);
  }
  ProcessOptions o;
  o.argv = {kLastgoodBinary, "router", "--home", lg.home(), "--threads", "2"};
  o.stderr_path = lg.home() + "/router.err";
  Process router(o);
  std::string control = lg.home() + "/router.sock";
  ASSERT_TRUE(WaitUntil([&] { return ControlRequest(control, "GET", "/v1/health").first == 200; },
                        5s, 10ms))
      << ReadFile(o.stderr_path);
  ASSERT_TRUE(WaitUntil([&] { return Lastgood::Label(a) == "v1" && Lastgood::Label(b) == "v2"; },
                        5s, 10ms));
  auto table = [&](int generation, int w1, int w2) {
    auto version = [](int v, int w, int p) {
      return json{{"version", v},
                  {"weight", w},
                  {"backends",
                   {{{"id", "web-" + std::to_string(v) + "-a"},
                     {"address", "127.0.0.1:" + std::to_string(p)}}}}};
    };
    return json{
        {"generation", generation},
        {"listeners",
         {{{"address", "127.0.0.1:" + std::to_string(port)},
           {"host", ""},
           {"app", "web"},
           {"slot", "production"}}}},
        {"apps",
         {{{"name", "web"},
           {"slots",
            {{{"name", "production"}, {"versions", {version(1, w1, a), version(2, w2, b)}}}}}}}}}
        .dump();
  };
  auto put = ControlRequest(control, "PUT", "/v1/table", table(1, 100, 0));
  ASSERT_EQ(put.first, 200) << put.second;
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  ASSERT_TRUE(TrafficFlows(*load)) << load->Stop().Summary();

  auto sent = LoadClock::now();
  put = ControlRequest(control, "PUT", "/v1/table", table(2, 0, 100));
  auto answered = LoadClock::now();
  std::this_thread::sleep_for(kAfterChange);
  LoadReport r = load->Stop();

  ASSERT_EQ(put.first, 200) << put.second;
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_GT(r.per_label["v1"], 0u) << r.Summary();
  EXPECT_GT(r.ServedBySince("v2", answered), 0u) << r.Summary();
  EXPECT_EQ(r.ServedBySince("v1", answered), 0u) << "v1 served a request begun after the PUT\n"
                                                 << r.Summary();
  size_t v2_before = 0;  // answered before the PUT was sent: routed by the first table
  for (const auto& x : r.requests) v2_before += x.end < sent && x.label == "v2" ? 1 : 0;
  EXPECT_EQ(v2_before, 0u) << "v2 had weight 0 before the PUT\n" << r.Summary();
  std::cout << "[ measured ] table switch: PUT answered in " << MillisBetween(sent, answered)
            << " ms; " << r.total << " requests\n";
}

}  // namespace

namespace {

// The controller reads the router's measurements: `status` shows each version's traffic,
// with the error share the router saw (the numbers a canary will be judged by).
TEST(Router, StatusShowsTheTrafficTheRouterMeasuredPerVersion) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given().Manifest(RoutedManifest(SampleApp().Label("v1").FailRate("0.5").Replicas(1), port));
  lg.Applied();
  std::unique_ptr<SteadyLoad> holder;
  SteadyLoad* load = StartLoad(holder, port);
  ASSERT_TRUE(TrafficFlows(*load, 100));
  LoadReport report = load->Stop();
  ASSERT_GT(report.failed, 0u) << report.Summary();

  lg.When().Run({"status", "web"});
  lg.Then().ExitCode(0).OutputHas("traffic, last 10s (router):").OutputHas("production  v1");
  // About half of the requests failed on purpose; the status line says so (40%-60%).
  std::string out = lg.last().out;
  size_t at = out.find("production  v1");
  ASSERT_NE(at, std::string::npos) << out;
  size_t pct = out.find('%', at);
  ASSERT_NE(pct, std::string::npos) << out;
  size_t start = out.rfind(' ', pct) + 1;
  double share = std::atof(out.substr(start, pct - start).c_str());
  EXPECT_GT(share, 30.0) << out;
  EXPECT_LT(share, 70.0) << out;
}

}  // namespace
