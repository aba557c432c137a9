// End-to-end: the router restarted, upgraded and killed under a steady load (issue 13;
// docs/router.md "How the sockets move"). `lastgood router` is a keeper holding the listening
// sockets and a worker serving (router-keeper.pid, router.pid). A take-over by another build
// (`serve` started from "another build": LASTGOOD_FAKE_BUILD_ID) fails no request; SIGTERM of
// the worker answers the request in flight and fails none; SIGKILL of the worker costs only
// what was in flight and refuses no connection; SIGKILL of every router process is undone by
// `serve`. Times are printed as "[ measured ]" lines, never asserted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "testutil/lastgood.h"
#include "testutil/load.h"

namespace router_restart_test {

using namespace std::chrono_literals;
using lastgood::testutil::FreePort;
using lastgood::testutil::HttpGet;
using lastgood::testutil::HttpResponse;
using lastgood::testutil::Lastgood;
using lastgood::testutil::LoadClock;
using lastgood::testutil::LoadOptions;
using lastgood::testutil::LoadReport;
using lastgood::testutil::LoadRequest;
using lastgood::testutil::ReadFile;
using lastgood::testutil::SampleApp;
using lastgood::testutil::SteadyLoad;
using lastgood::testutil::WaitUntil;
using nlohmann::json;

constexpr const char* kFakeBuild = "LASTGOOD_FAKE_BUILD_ID";

std::string Routed(SampleApp app, int port) {
  return app.Yaml() + "route:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
}

int PidIn(const Lastgood& lg, const std::string& file) {
  return std::atoi(ReadFile(lg.home() + "/" + file).c_str());
}

// A process whose main thread has exited shows as a zombie while its other threads still
// run, its sockets still open: it is dead once it is a zombie with no thread left but that one.
bool Alive(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  const std::string proc = "/proc/" + std::to_string(pid);
  if (ReadFile(proc + "/stat").find(") Z") == std::string::npos) return true;
  std::error_code ec;
  size_t threads = 0;
  for (auto it = std::filesystem::directory_iterator(proc + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++threads;
  return threads > 1;
}

// GET `path` on the router's control socket: its JSON body, or an empty object (no answer:
// the socket is between two workers, say), so that .value() gives the default.
json RouterGet(const Lastgood& lg, const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", (lg.home() + "/router.sock").c_str());
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: router\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, n);
    }
  }
  ::close(fd);
  size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return json::object();
  json parsed = json::parse(response.substr(body + 4), nullptr, false);
  return parsed.is_object() ? parsed : json::object();
}

// GET /v1/health: {"buildId", "pid", "statsSince", …}, or {}.
json RouterHealth(const Lastgood& lg) { return RouterGet(lg, "/v1/health"); }

// The requests the router counted for version `version` of web since it began (totals of
// its aggregate row over the whole window), or -1 without an answer.
int64_t CountedFor(const Lastgood& lg, int version) {
  json stats = RouterGet(lg, "/v1/stats?window=120s");
  if (!stats.contains("rows")) return -1;
  int64_t total = 0;
  for (const auto& row : stats.value("rows", json::array())) {
    if (row.value("backend", "x").empty() && row.value("version", 0) == version &&
        !row.value("pinned", false))
      total += row.value("totalRequests", int64_t{0});
  }
  return total;
}

// The detail of the deployment's analysis step(s), joined.
std::string AnalysisDetail(Lastgood& lg, const std::string& deployment) {
  std::string detail;
  const json record = lg.Deployment(deployment);
  for (const auto& op : record.value("operations", json::array())) {
    if (op.value("step", "").rfind("analyse", 0) == 0) detail += op.value("detail", "") + "\n";
  }
  return detail;
}

// The requests that failed with "connection refused".
size_t Refused(const LoadReport& r) {
  size_t n = 0;
  for (const auto& q : r.requests)
    if (q.error.find("refused") != std::string::npos) ++n;
  return n;
}

double Millis(LoadClock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The first successful request begun at or after `t` ended this long after `t`.
double GapAfter(const LoadReport& r, LoadClock::time_point t) {
  for (const auto& q : r.requests)
    if (q.start >= t && !q.failed()) return Millis(q.end - t);
  return -1;
}

LoadClock::duration Longest(const LoadReport& r) {
  LoadClock::duration longest{};
  for (const auto& q : r.requests) longest = std::max(longest, q.end - q.start);
  return longest;
}

std::unique_ptr<SteadyLoad> Load(int port) {
  // Clients check an idle connection before reusing it, as HTTP client libraries do.
  return std::make_unique<SteadyLoad>(
      LoadOptions{.port = port, .threads = 4, .rate = 400, .check_before_reuse = true});
}

bool Flows(const SteadyLoad& load, size_t n = 40) {
  size_t base = load.Served();
  return WaitUntil([&] { return load.Served() >= base + n; }, 5s, 5ms);
}

TEST(RouterRestart, ServeStartedFromAnotherBuildTakesTheRouterOverWithoutAFailedRequest) {
  Lastgood lg;
  lg.ServeEnv({{kFakeBuild, "0.0.0-test-old"}});
  int port = FreePort();
  lg.Given().Manifest(Routed(SampleApp().Replicas(2), port)).Applied();
  int old_keeper = PidIn(lg, "router-keeper.pid"), old_worker = PidIn(lg, "router.pid");
  ASSERT_TRUE(Alive(old_keeper) && Alive(old_worker));
  ASSERT_EQ(RouterHealth(lg).value("buildId", ""), "0.0.0-test-old");
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();

  // The controller is upgraded: the new one finds a router of another build and hands over.
  lg.KillController(SIGTERM);
  ASSERT_TRUE(Flows(*load)) << "the router serves while the controller is away";
  auto upgrade = LoadClock::now();
  lg.ServeEnv({{kFakeBuild, "0.0.0-test-new"}}).StartController();
  bool moved = WaitUntil([&] { return RouterHealth(lg).value("buildId", "") == "0.0.0-test-new"; },
                         10s, 20ms);
  auto moved_at = LoadClock::now();
  ASSERT_TRUE(Flows(*load));
  bool old_gone = WaitUntil([&] { return !Alive(old_keeper) && !Alive(old_worker); }, 15s, 20ms);
  ASSERT_TRUE(Flows(*load));
  LoadReport r = load->Stop();

  EXPECT_TRUE(moved) << ReadFile(lg.home() + "/serve.err.2")
                     << ReadFile(lg.home() + "/logs/router.log");
  EXPECT_TRUE(old_gone) << "the old router drained and exited";
  EXPECT_NE(PidIn(lg, "router.pid"), old_worker);
  EXPECT_NE(PidIn(lg, "router-keeper.pid"), old_keeper);
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_NE(ReadFile(lg.home() + "/serve.err.2").find("handing the data plane over"),
            std::string::npos);
  std::cout << "[ measured ] take-over by another build: " << r.total << " requests, " << r.failed
            << " failed, longest " << Millis(Longest(r))
            << " ms; serve started to the new build serving: " << Millis(moved_at - upgrade)
            << " ms\n";
  // The new router has the table: a deployment through it is served.
  lg.When().Apply({"--param", "label=v2"}).Then().ExitCode(0);
  EXPECT_EQ(Lastgood::Label(port), "v2");
}

TEST(RouterRestart, SigtermToTheServingProcessAnswersTheRequestInFlightAndFailsNone) {
  Lastgood lg;
  int port = FreePort(), slow_port = FreePort();
  lg.Given().Manifest(Routed(SampleApp(), port)).Applied();
  // A second app whose every answer takes 2 s, behind the same router.
  std::string slow = Routed(SampleApp().App("slow").Label("slow"), slow_port);
  const std::string last_flag = "\"--healthy\", \"${params.healthy}\"]";
  ASSERT_NE(slow.find(last_flag), std::string::npos) << slow;
  slow.replace(slow.find(last_flag), last_flag.size(),
               "\"--healthy\", \"${params.healthy}\", \"--latency-ms\", \"2000\"]");
  lg.Given().Manifest(slow, "slow").Applied();
  int worker = PidIn(lg, "router.pid");
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();

  HttpResponse answer;
  std::thread slow_client([&] { answer = HttpGet("127.0.0.1", slow_port, "/", {}, 10s); });
  std::this_thread::sleep_for(300ms);  // the slow request is at the app now
  const int64_t since = RouterHealth(lg).value("statsSince", int64_t{0});
  const int64_t counted = CountedFor(lg, 1);
  auto signalled = LoadClock::now();
  ASSERT_EQ(::kill(worker, SIGTERM), 0);
  bool successor = WaitUntil(
      [&] {
        int now = PidIn(lg, "router.pid");
        return now != worker && Alive(now);
      },
      5s, 5ms);
  slow_client.join();
  bool exited = WaitUntil([&] { return !Alive(worker); }, 5s, 10ms);
  ASSERT_TRUE(Flows(*load));
  LoadReport r = load->Stop();

  EXPECT_TRUE(successor) << ReadFile(lg.home() + "/logs/router.log");
  EXPECT_TRUE(exited) << "the drained worker exits";
  // The drained worker handed its counts to its successor: nothing restarted for them.
  EXPECT_TRUE(WaitUntil([&] { return RouterHealth(lg).value("statsSince", int64_t{0}) == since; },
                        2s, 10ms))
      << ReadFile(lg.home() + "/logs/router.log");
  EXPECT_GE(CountedFor(lg, 1), counted);
  EXPECT_EQ(answer.status, 200) << answer.error;
  EXPECT_EQ(answer.body.substr(0, 5), "slow\n");
  auto [before, failed_before] = r.Between(LoadClock::time_point{}, signalled);
  EXPECT_EQ(failed_before, 0u) << "a request that reached the router before the signal failed; "
                               << r.Summary();
  auto [after, failed_after] = r.Between(signalled, LoadClock::now());
  EXPECT_EQ(failed_after, 0u) << "new connections wait in the backlog for the successor; "
                              << r.Summary();
  std::cout << "[ measured ] SIGTERM of the serving process: " << before << " requests before, "
            << after << " after; the first begun after it was served " << GapAfter(r, signalled)
            << " ms after the signal; longest request " << Millis(Longest(r)) << " ms\n";
}

TEST(RouterRestart, SigkillOfTheServingProcessCostsOnlyWhatWasInFlightAndRefusesNoConnection) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(Routed(SampleApp().Replicas(2), port)).Applied();
  int keeper = PidIn(lg, "router-keeper.pid"), worker = PidIn(lg, "router.pid");
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();

  auto killed = LoadClock::now();
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  // Its connections are reset when the kernel has torn it down, a little after the signal.
  ASSERT_TRUE(WaitUntil([&] { return !Alive(worker); }, 2s, 1ms));
  auto dead = LoadClock::now();
  bool successor = WaitUntil(
      [&] {
        int now = PidIn(lg, "router.pid");
        return now != worker && Alive(now);
      },
      5s, 2ms);
  ASSERT_TRUE(Flows(*load));
  LoadReport r = load->Stop();

  EXPECT_TRUE(successor) << ReadFile(lg.home() + "/logs/router.log");
  EXPECT_EQ(PidIn(lg, "router-keeper.pid"), keeper) << "the keeper started the successor";
  EXPECT_EQ(Refused(r), 0u) << "the listening sockets outlived the worker; " << r.Summary();
  size_t in_flight_failed = 0;
  for (const LoadRequest& q : r.requests) {
    if (!q.failed()) continue;
    EXPECT_LT(q.start, dead) << "a request begun after the worker was gone failed: " << q.error;
    if (q.start < dead) ++in_flight_failed;
  }
  std::cout << "[ measured ] SIGKILL of the serving process: " << in_flight_failed << " of "
            << r.total << " requests failed (in flight), " << Refused(r)
            << " refused; the first begun after the kill was served " << GapAfter(r, killed)
            << " ms after it\n";
}

// A keeper that dies alone leaves the worker serving; the worker starts a new keeper that
// holds its sockets again, so that the next crash of the worker still refuses no connection.
TEST(RouterRestart, AKeeperThatDiesAloneIsReplacedAndTheNextWorkerCrashRefusesNoConnection) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(Routed(SampleApp().Replicas(2), port)).Applied();
  int keeper = PidIn(lg, "router-keeper.pid"), worker = PidIn(lg, "router.pid");
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();

  ASSERT_EQ(::kill(keeper, SIGKILL), 0);
  bool replaced = WaitUntil(
      [&] {
        int now = PidIn(lg, "router-keeper.pid");
        return now != keeper && Alive(now);
      },
      5s, 5ms);
  ASSERT_TRUE(replaced) << ReadFile(lg.home() + "/logs/router.log");
  int second_keeper = PidIn(lg, "router-keeper.pid");
  ASSERT_TRUE(Flows(*load)) << "the worker serves on";
  EXPECT_EQ(PidIn(lg, "router.pid"), worker);

  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return !Alive(worker); }, 2s, 1ms));
  auto dead = LoadClock::now();
  bool successor = WaitUntil(
      [&] {
        int now = PidIn(lg, "router.pid");
        return now != worker && Alive(now);
      },
      5s, 2ms);
  ASSERT_TRUE(Flows(*load));
  LoadReport r = load->Stop();

  EXPECT_TRUE(successor) << ReadFile(lg.home() + "/logs/router.log");
  EXPECT_EQ(PidIn(lg, "router-keeper.pid"), second_keeper) << "the new keeper started it";
  EXPECT_EQ(Refused(r), 0u) << "the new keeper held the sockets; " << r.Summary();
  for (const LoadRequest& q : r.requests) {
    if (!q.failed()) continue;
    EXPECT_LT(q.start, dead) << "a request begun after the crash failed: " << q.error;
  }
  EXPECT_EQ(Lastgood::Label(port), "v1");
}

// The keeper a worker started for itself is a keeper like the first: an upgrade takes the
// router over from it without a failed request, its worker's counts carried over.
TEST(RouterRestart, ARouterWhoseKeeperWasReplacedIsTakenOverWithoutAFailedRequest) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(Routed(SampleApp().Replicas(2), port)).Applied();
  int keeper = PidIn(lg, "router-keeper.pid"), worker = PidIn(lg, "router.pid");
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();
  ASSERT_EQ(::kill(keeper, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        int now = PidIn(lg, "router-keeper.pid");
        return now != keeper && Alive(now);
      },
      5s, 5ms))
      << ReadFile(lg.home() + "/logs/router.log");
  int second_keeper = PidIn(lg, "router-keeper.pid");
  const int64_t since = RouterHealth(lg).value("statsSince", int64_t{0});

  lastgood::testutil::ProcessOptions o;
  o.argv = {lastgood::testutil::kLastgoodBinary, "router", "--home", lg.home(), "--take-over"};
  o.env = {{kFakeBuild, "0.0.0-test-after-adoption"}};
  o.stderr_path = lg.home() + "/take-over.err";
  lastgood::testutil::Process taking_over(o);
  EXPECT_TRUE(WaitUntil(
      [&] { return RouterHealth(lg).value("buildId", "") == "0.0.0-test-after-adoption"; }, 10s,
      20ms))
      << ReadFile(o.stderr_path);
  EXPECT_TRUE(WaitUntil([&] { return !Alive(second_keeper) && !Alive(worker); }, 15s, 20ms))
      << "the adopted router drained and exited; " << ReadFile(lg.home() + "/logs/router.log");
  EXPECT_TRUE(WaitUntil([&] { return RouterHealth(lg).value("statsSince", int64_t{0}) == since; },
                        5s, 20ms));
  ASSERT_TRUE(Flows(*load));
  LoadReport r = load->Stop();
  EXPECT_EQ(r.failed, 0u) << r.Summary();
}

TEST(RouterRestart, SigkillOfEveryRouterProcessIsUndoneByServe) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(Routed(SampleApp(), port)).Applied();
  int keeper = PidIn(lg, "router-keeper.pid"), worker = PidIn(lg, "router.pid");
  ASSERT_TRUE(Alive(keeper) && Alive(worker));
  auto killed = LoadClock::now();
  ASSERT_EQ(::kill(keeper, SIGKILL), 0);
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  // `serve` notices at its next look at the router (its upkeep, or a call that fails).
  bool back = WaitUntil([&] { return Lastgood::Label(port) == "v1"; }, 15s, 10ms);
  auto served = LoadClock::now();
  ASSERT_TRUE(back) << ReadFile(lg.home() + "/serve.err.1");
  EXPECT_NE(PidIn(lg, "router-keeper.pid"), keeper);
  std::cout << "[ measured ] SIGKILL of keeper and worker: served again after "
            << Millis(served - killed) << " ms\n";
}

// docs/security.md: another local user cannot replace the router or take its sockets — not
// through the socket's mode, nor when someone loosened it (the keepers check each other's
// uid).
TEST(RouterRestart, AnotherUserCannotTakeTheRouterOver) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run the take-over as another uid";
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(Routed(SampleApp(), port)).Applied();
  int keeper = PidIn(lg, "router-keeper.pid"), worker = PidIn(lg, "router.pid");
  // The home reachable (not readable) by others, as an operator might make it.
  ASSERT_EQ(::chmod(lg.home().c_str(), 0711), 0);
  auto attempt = [&](const std::string& name) {
    lastgood::testutil::ProcessOptions o;
    o.argv = {"/usr/bin/setpriv",
              "--reuid=65534",
              "--regid=65534",
              "--clear-groups",
              "--",
              lastgood::testutil::kLastgoodBinary,
              "router",
              "--home",
              lg.home(),
              "--take-over"};
    o.stderr_path = lg.home() + "/" + name + ".err";
    lastgood::testutil::Process p(o);
    auto st = p.Wait(10s);
    EXPECT_TRUE(st && st->exited() && st->code != 0) << ReadFile(o.stderr_path);
  };
  attempt("as-nobody");
  ASSERT_EQ(::chmod((lg.home() + "/router-keeper.sock").c_str(), 0666), 0);
  attempt("as-nobody-socket-open");

  EXPECT_EQ(PidIn(lg, "router-keeper.pid"), keeper);
  EXPECT_EQ(PidIn(lg, "router.pid"), worker);
  EXPECT_TRUE(Alive(keeper) && Alive(worker));
  EXPECT_EQ(Lastgood::Label(port), "v1");
  // The rightful owner still can.
  lastgood::testutil::ProcessOptions o;
  o.argv = {lastgood::testutil::kLastgoodBinary, "router", "--home", lg.home(), "--take-over"};
  o.env = {{kFakeBuild, "0.0.0-test-owner"}};
  o.stderr_path = lg.home() + "/owner.err";
  lastgood::testutil::Process owner(o);
  EXPECT_TRUE(WaitUntil([&] { return RouterHealth(lg).value("buildId", "") == "0.0.0-test-owner"; },
                        10s, 20ms))
      << ReadFile(o.stderr_path);
}

// A canary deployment with its analysis running while the router is taken over by another
// build ends as it would have without it: passed, v2 in production, no failed request. The
// old worker hands its counters to the new one (docs/router.md, "Statistics across
// restarts"): the router's statsSince does not move, and the analysis says no restart.
TEST(RouterRestart, ACanaryAnalysedAcrossATakeOverEndsAsItWouldHaveWithoutIt) {
  Lastgood lg;
  int port = FreePort();
  const std::string analysis =
      "      - analysis: { window: 2s, minRequests: 20, maxErrorRate: 0.01 }";
  lg.Given()
      .App(SampleApp()
               .Strategy("canary")
               .StrategyYaml("  canary:\n    steps:\n      - weight: 20\n" + analysis +
                             "\n      - weight: 50\n" + analysis)
               .Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port)))
      .Applied();
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();

  lg.When().Apply({"--param", "label=v2", "--no-wait"}).Then().ExitCode(0);
  lg.WaitForStep("analyse canary");
  const int64_t since = RouterHealth(lg).value("statsSince", int64_t{0});
  lastgood::testutil::ProcessOptions o;
  o.argv = {lastgood::testutil::kLastgoodBinary, "router", "--home", lg.home(), "--take-over"};
  o.env = {{kFakeBuild, "0.0.0-test-canary"}};
  o.stderr_path = lg.home() + "/take-over.err";
  lastgood::testutil::Process taking_over(o);
  EXPECT_TRUE(WaitUntil(
      [&] { return RouterHealth(lg).value("buildId", "") == "0.0.0-test-canary"; }, 10s, 20ms))
      << ReadFile(o.stderr_path);
  lg.WaitForIdle(40s);
  LoadReport r = load->Stop();

  lg.Then().Serves("v2").Verdict(2, "good");
  EXPECT_EQ(lg.History()[0].value("state", ""), "Succeeded") << lg.History().dump(2);
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_EQ(RouterHealth(lg).value("statsSince", int64_t{0}), since)
      << ReadFile(lg.home() + "/logs/router.log") << ReadFile(o.stderr_path);
  EXPECT_EQ(AnalysisDetail(lg, lg.History()[0].value("name", "")).find("router restarted"),
            std::string::npos);
  EXPECT_GT(r.per_label["v1"], 0u) << r.Summary();
  EXPECT_GT(r.per_label["v2"], 0u) << r.Summary();
}

// A bad canary (one request in 20 fails) analysed across a take-over is rolled back as it
// would be without one; the counts of the old worker are the new one's: every request the
// router counted before the take-over is still in its totals after it.
TEST(RouterRestart, ABadCanaryAnalysedAcrossATakeOverIsStillRolledBack) {
  Lastgood lg;
  int port = FreePort();
  lg.Given()
      .App(SampleApp()
               .Strategy("canary")
               .StrategyYaml(
                   "  canary:\n    steps:\n      - weight: 50\n"
                   "      - analysis: { window: 3s, minRequests: 500, maxErrorRate: 0.01 }\n")
               .Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port)))
      .Applied();
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();

  lg.When()
      .Apply({"--param", "label=v2", "--param", "failRate=0.05", "--no-wait"})
      .Then()
      .ExitCode(0);
  lg.WaitForStep("analyse canary");
  const int64_t since = RouterHealth(lg).value("statsSince", int64_t{0});
  const int64_t counted = CountedFor(lg, 1);
  lastgood::testutil::ProcessOptions o;
  o.argv = {lastgood::testutil::kLastgoodBinary, "router", "--home", lg.home(), "--take-over"};
  o.env = {{kFakeBuild, "0.0.0-test-bad-canary"}};
  o.stderr_path = lg.home() + "/take-over.err";
  lastgood::testutil::Process taking_over(o);
  EXPECT_TRUE(WaitUntil(
      [&] { return RouterHealth(lg).value("buildId", "") == "0.0.0-test-bad-canary"; }, 10s, 20ms))
      << ReadFile(o.stderr_path);
  // Once the old worker has drained, its counts are the new one's.
  EXPECT_TRUE(WaitUntil([&] { return RouterHealth(lg).value("statsSince", int64_t{0}) == since; },
                        5s, 20ms))
      << ReadFile(lg.home() + "/logs/router.log") << ReadFile(o.stderr_path);
  EXPECT_GE(CountedFor(lg, 1), counted);
  lg.WaitForIdle(40s);
  LoadReport r = load->Stop();

  auto h = lg.History();
  ASSERT_GE(h.size(), 3u) << h.dump(2);
  EXPECT_EQ(h[1].value("state", ""), "Failed") << h.dump(2);
  EXPECT_NE(h[1].value("reason", "").find("analysis failed"), std::string::npos) << h.dump(2);
  EXPECT_EQ(h[1].value("reason", "").find("router restarted"), std::string::npos) << h.dump(2);
  EXPECT_EQ(h[0].value("trigger", ""), "auto") << h.dump(2);
  lg.Then().Serves("v1").Verdict(2, "bad");
  size_t failed_v1 = 0;
  for (const auto& q : r.requests) failed_v1 += q.failed() && q.label != "v2";
  EXPECT_EQ(failed_v1, 0u) << "only the canary's own requests failed; " << r.Summary();
}

// A canary analysed across a SIGKILL of the router's worker (nothing handed over) ends as it
// would have without it: the analysis sees the router's statsSince move, judges a whole window
// from the restart, passes, and says so in its detail.
TEST(RouterRestart, ACanaryAnalysedAcrossASigkillOfTheWorkerEndsAsItWouldHaveWithoutIt) {
  Lastgood lg;
  int port = FreePort();
  lg.Given()
      .App(SampleApp()
               .Strategy("canary")
               .StrategyYaml(
                   "  canary:\n    steps:\n      - weight: 50\n"
                   "      - analysis: { window: 3s, minRequests: 100, maxErrorRate: 0.01 }\n")
               .Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port)))
      .Applied();
  auto load = Load(port);
  ASSERT_TRUE(Flows(*load)) << load->Stop().Summary();

  lg.When().Apply({"--param", "label=v2", "--no-wait"}).Then().ExitCode(0);
  lg.WaitForStep("analyse canary");
  int worker = PidIn(lg, "router.pid");
  std::this_thread::sleep_for(1s);  // into the window: counts the restart will lose
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        int now = PidIn(lg, "router.pid");
        return now != worker && Alive(now);
      },
      5s, 5ms));
  lg.WaitForIdle(40s);
  LoadReport r = load->Stop();

  auto h = lg.History();
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h[0].value("state", ""), "Succeeded") << h.dump(2);
  lg.Then().Serves("v2").Verdict(2, "good");
  const std::string detail = AnalysisDetail(lg, h[0].value("name", ""));
  EXPECT_EQ(detail.rfind("passed: ", 0), 0u) << detail;
  EXPECT_NE(detail.find("router restarted at "), std::string::npos) << detail;
  EXPECT_NE(detail.find(": window extended"), std::string::npos) << detail;
  std::cout << "[ measured ] canary across a SIGKILL of the worker: " << r.failed << " of "
            << r.total << " requests failed (in flight at the kill)\n";
}

}  // namespace router_restart_test
