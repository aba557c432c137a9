// End-to-end: resource faults (issue 5, item 6). Each fault gives a clear error and leaves a
// recorded, consistent state: a full disk while storing an artifact or filling a release
// directory (the test-only fault seam, base/fault.h), the route's port taken by another
// process, an instance out of file descriptors (a real RLIMIT_NOFILE), the router killed,
// the store locked by another process (a real SQLite write lock).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "testutil/lastgood.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::FreePort;
using lastgood::testutil::Lastgood;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::SampleApp;
using lastgood::testutil::WaitUntil;

// Sets LASTGOOD_FAULTS for the processes this test starts from now on (each test is its own
// process under ctest), and clears it at the end.
class Faults {
 public:
  explicit Faults(const std::string& spec) { ::setenv("LASTGOOD_FAULTS", spec.c_str(), 1); }
  ~Faults() { ::unsetenv("LASTGOOD_FAULTS"); }
};

// Files under `dir` (recursively), for "nothing half-written" checks.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(it->path().string());
  }
  return out;
}

// A listening TCP socket on 127.0.0.1:port, held by this test process.
class PortHolder {
 public:
  explicit PortHolder(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::listen(fd_, 16) == 0;
  }
  ~PortHolder() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// History (newest first): an automatic rollback that Succeeded, after a deploy that Failed
// with a reason containing `why`; nothing left Running.
void ExpectFailedThenRolledBack(Lastgood& lg, const std::string& why) {
  auto h = lg.History();
  ASSERT_GE(h.size(), 3u) << h.dump(2);
  EXPECT_EQ(h[0].value("kind", ""), "rollback") << h.dump(2);
  EXPECT_EQ(h[0].value("trigger", ""), "auto") << h.dump(2);
  EXPECT_EQ(h[0].value("state", ""), "Succeeded") << h.dump(2);
  EXPECT_EQ(h[1].value("state", ""), "Failed") << h.dump(2);
  EXPECT_NE(h[1].value("reason", "").find(why), std::string::npos) << h.dump(2);
  for (const auto& d : h) EXPECT_NE(d.value("state", ""), "Running") << h.dump(2);
}

// The pid of the home's router (`lastgood router --home HOME`), or 0.
int RouterPid(const Lastgood& lg) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string cmd = ReadFile(e.path().string() + "/cmdline");
    if (cmd.find("router") != std::string::npos && cmd.find(lg.home()) != std::string::npos)
      return std::atoi(e.path().filename().c_str());
  }
  return 0;
}

// v1 of the sample app applied behind the router on `port`; returns the router's pid (0 when
// v1 is not served through it).
int AppliedBehindTheRouter(Lastgood& lg, int port) {
  lg.Given()
      .App(SampleApp().Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port)))
      .Applied();
  return Lastgood::Label(port) == "v1" ? RouterPid(lg) : 0;
}

TEST(Faults, DiskFullWhileStoringAnArtifactIsRefusedAndStoresNothing) {
  Faults faults("artifact.write=ENOSPC");
  Lastgood lg;
  lg.Given().App(SampleApp());

  lg.When().Apply({"-o", "json"});

  lg.Then().ExitCode(5).Error("unavailable", "run.artifact").StderrHas("No space left on device");
  EXPECT_TRUE(lg.Json({"apps"}).empty()) << "no app, version or deployment was recorded";
  EXPECT_TRUE(FilesUnder(lg.home() + "/artifacts").empty())
      << "a partial object was left: " << FilesUnder(lg.home() + "/artifacts").front();
}

TEST(Faults, DiskFullWhileFillingAReleaseFailsTheDeploymentAndKeepsTheLastGood) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.KillController(SIGTERM);
  {
    Faults faults("release.write=ENOSPC");
    lg.StartController();
  }

  lg.When().Apply({"--param", "label=v2"});

  lg.Then().ExitCode(1).Serves("v1").Verdict(2, "bad");
  ExpectFailedThenRolledBack(lg, "No space left on device");
  for (const auto& e : std::filesystem::directory_iterator(lg.home() + "/releases/web")) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u)
        << "a half-filled release directory was left: " << e.path();
  }
}

TEST(Faults, RoutePortTakenByAnotherProcessIsReportedAndRecorded) {
  const int port = FreePort();
  PortHolder holder(port);
  ASSERT_TRUE(holder.ok());
  Lastgood lg;
  lg.Given().App(SampleApp().Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port)));

  lg.When().Apply({"-o", "json"});

  EXPECT_NE(lg.last().code, 0) << lg.last().out << lg.last().err;
  const std::string said = lg.last().out + lg.last().err;
  EXPECT_NE(said.find(std::to_string(port)), std::string::npos) << said;
  lg.WaitForIdle();
  for (const auto& d : lg.History()) EXPECT_NE(d.value("state", ""), "Running");
}

TEST(Faults, InstanceOutOfFileDescriptorsFailsReadinessAndIsRecordedFailed) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  // A real limit: the instance runs under prlimit with room for stdio and little else.
  std::string yaml = SampleApp().ProgressDeadline("4s").Yaml();
  const std::string argv0 = "[\"./lastgood-sample\",";
  ASSERT_NE(yaml.find(argv0), std::string::npos);
  yaml.replace(yaml.find(argv0), argv0.size(),
               "[\"/usr/bin/prlimit\", \"--nofile=4\", \"./lastgood-sample\",");
  lg.Manifest(yaml);

  lg.When().Apply({"--param", "label=v2"});

  lg.Then().ExitCode(1).Serves("v1").Verdict(2, "bad");
  ExpectFailedThenRolledBack(lg, "Too many open files");
}

// The router killed between deployments: the next one fails clearly and is recorded.
// The router dies and cannot come back (its control socket's path is taken by a directory):
// the next deployment fails with the reason, rolls back, and leaves nothing Running.
TEST(Faults, RouterThatCannotBeRestartedFailsTheNextDeploymentClearly) {
  Lastgood lg;
  const int port = FreePort(), router = AppliedBehindTheRouter(lg, port);
  ASSERT_GT(router, 0);

  // The path first, so that no restart can come between the kill and the block.
  const std::string socket = lg.home() + "/router.sock";
  ASSERT_EQ(::unlink(socket.c_str()), 0);
  ASSERT_EQ(::mkdir(socket.c_str(), 0700), 0);
  ::kill(router, SIGKILL);
  lg.When().Apply({"--param", "label=v2"});

  lg.Then().ExitCode(1).Verdict(2, "bad");
  auto h = lg.History();
  ASSERT_GE(h.size(), 2u) << h.dump(2);
  std::string reasons;
  for (const auto& d : h) {
    EXPECT_NE(d.value("state", ""), "Running") << h.dump(2);
    reasons += d.value("reason", "") + "\n";
  }
  EXPECT_NE(reasons.find("cannot connect to the router"), std::string::npos) << h.dump(2);
}

// DESIGN.md section 3: `serve` restarts the router if it dies. A deployment right after the
// kill (before the controller's upkeep tick) starts the router itself and is served through it.
TEST(Faults, RouterKilledIsRestartedAndTheNextApplyIsServedThroughIt) {
  Lastgood lg;
  const int port = FreePort(), killed = AppliedBehindTheRouter(lg, port);
  ASSERT_GT(killed, 0);

  ::kill(killed, SIGKILL);
  lg.When().Apply({"--param", "label=v2"});

  lg.Then().ExitCode(0);
  EXPECT_TRUE(WaitUntil([&] { return Lastgood::Label(port) == "v2"; }, 10s, 50ms));
  EXPECT_NE(RouterPid(lg), killed);
}

// With no deployment to notice, the controller's upkeep restarts a killed router within a
// tick or two, and it serves the last table (the current version) again.
TEST(Faults, RouterKilledWhileIdleIsBackServingTheCurrentVersion) {
  Lastgood lg;
  const int port = FreePort(), killed = AppliedBehindTheRouter(lg, port);
  ASSERT_GT(killed, 0);

  ::kill(killed, SIGKILL);

  EXPECT_TRUE(WaitUntil([&] { return Lastgood::Label(port) == "v1"; }, 10s, 50ms));
  EXPECT_NE(RouterPid(lg), killed);
}

TEST(Faults, StoreLockedByAnotherProcessFailsTheVerbClearlyAndWritesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  // Another process takes the store's write lock and keeps it for 8s.
  ProcessOptions o;
  o.argv = {"/usr/bin/sqlite3",         "-cmd",   "BEGIN EXCLUSIVE;", "-cmd", ".system sleep 8",
            lg.home() + "/lastgood.db", "COMMIT;"};
  o.stdout_path = lg.home() + "/sqlite.out";
  o.stderr_path = lg.home() + "/sqlite.err";
  Process holder(o);
  std::this_thread::sleep_for(300ms);

  lg.When().Apply({"--param", "label=v2", "-o", "json"});

  lg.Then().ExitCode(5).Error("unavailable").StderrHas("another process holds the store");
  holder.Wait(15s);
  lg.Then().VersionCount(1).HistorySize(1).Serves("v1");
  lg.When().Apply({"--param", "label=v2"}).Then().ExitCode(0).Serves("v2").VersionCount(2);
}

}  // namespace
