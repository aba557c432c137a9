// End-to-end: the controller's life (issue 2, items 1 and 3; DESIGN.md section 3): SIGTERM
// stops it while instances keep running, a restarted controller re-adopts them, the
// supervisor restarts a killed instance, and a deployment interrupted by SIGKILL of the
// controller is resumed and finished after a restart.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>

#include "testutil/lastgood.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::Lastgood;
using lastgood::testutil::SampleApp;
using lastgood::testutil::WaitUntil;

std::set<int> StatusPids(Lastgood& lg) {
  std::set<int> pids;
  for (const auto& i : lg.Instances()) pids.insert(i.pid);
  return pids;
}

TEST(Controller, SigtermStopsItWhileInstancesKeepServing) {
  Lastgood lg;
  lg.Given().App(SampleApp().Replicas(2)).Applied();
  auto instances = lg.Instances();
  ASSERT_EQ(instances.size(), 2u);

  auto st = lg.When().StopController(SIGTERM);

  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->exited() && st->code == 0) << "code " << st->code << " signal " << st->signal;
  for (const auto& i : instances) EXPECT_EQ(lg.Label(i.port), "v1") << i.id;
  EXPECT_EQ(lg.InstancePids().size(), 2u);
  lg.Then().Run({"status", "web"}).ExitCode(5);
}

TEST(Controller, RestartedControllerReadoptsRunningInstancesWithoutDuplicates) {
  Lastgood lg;
  lg.Given().App(SampleApp().Replicas(2)).Applied();
  auto pids = StatusPids(lg);
  ASSERT_EQ(pids.size(), 2u);
  lg.Given().KillController(SIGTERM);

  lg.When().StartController();

  EXPECT_EQ(StatusPids(lg), pids);
  for (const auto& i : lg.Instances()) EXPECT_EQ(i.state, "ready") << i.id;
  EXPECT_EQ(lg.InstancePids(), pids) << "no instance was started twice";
  lg.Then().Serves("v1", 2).HistorySize(1);
  // The re-adopted instances are supervised: the next deployment replaces them.
  lg.When().Applied({"--param", "label=v2"}).Then().Serves("v2", 2);
  EXPECT_EQ(lg.InstancePids().size(), 2u);
}

TEST(Controller, SupervisorRestartsAnInstanceKilledWithSigkill) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  auto before = lg.Instances();
  ASSERT_EQ(before.size(), 1u);

  ASSERT_EQ(::kill(before[0].pid, SIGKILL), 0);

  bool restarted = WaitUntil(
      [&] {
        auto now = lg.Instances();
        return now.size() == 1 && now[0].restarts >= 1 && now[0].pid != before[0].pid &&
               lg.Label(now[0].port) == "v1";
      },
      10s, 50ms);
  EXPECT_TRUE(restarted) << lg.Status().dump(2);
  EXPECT_EQ(lg.Instances()[0].id, before[0].id);
  EXPECT_EQ(lg.InstancePids().size(), 1u);
}

TEST(Controller, DeploymentInterruptedBySigkillIsResumedAfterRestartAndSucceeds) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().Bake("2s"));
  lg.Given().Apply({"--param", "label=v2", "--no-wait"}).ExitCode(0).WaitForStep("bake");

  lg.When().KillController(SIGKILL).StartController().WaitForIdle();

  auto h = lg.History();
  ASSERT_EQ(h.size(), 2u) << h.dump(2);
  EXPECT_EQ(h[0]["version"], 2);
  EXPECT_EQ(h[0]["state"], "Succeeded") << h.dump(2);
  for (const auto& d : h) EXPECT_NE(d["state"], "Running") << h.dump(2);
  lg.Then().Serves("v2", 1).Verdict(2, "good");
  EXPECT_EQ(lg.InstancePids().size(), 1u) << "v1's instance was stopped, v2's started once";
}

TEST(Controller, ReadoptedInstanceKilledWithSigkillIsRestarted) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().KillController(SIGTERM).StartController();
  auto before = lg.Instances();
  ASSERT_EQ(before.size(), 1u);

  ASSERT_EQ(::kill(before[0].pid, SIGKILL), 0);

  bool restarted = WaitUntil(
      [&] {
        auto now = lg.Instances();
        return now.size() == 1 && now[0].pid != before[0].pid && lg.Label(now[0].port) == "v1";
      },
      10s, 50ms);
  EXPECT_TRUE(restarted) << "an adopted instance is supervised like one the controller started:\n"
                         << lg.Status().dump(2);
  EXPECT_EQ(lg.InstancePids().size(), 1u);
}

TEST(Controller, DeploymentInterruptedWhileStartingIsResumedWithoutDuplicateInstances) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().StartupMs(1500));
  lg.Given().Apply({"--param", "label=v2", "--no-wait"}).ExitCode(0).WaitForStep("ready instance");
  ASSERT_TRUE(WaitUntil([&] { return lg.InstancePids().size() == 2; }, 5s));

  lg.When().KillController(SIGKILL).StartController().WaitForIdle();

  auto h = lg.History();
  ASSERT_EQ(h.size(), 2u) << h.dump(2);
  EXPECT_EQ(h[0]["state"], "Succeeded") << h.dump(2);
  lg.Then().Serves("v2", 1);
  EXPECT_EQ(lg.InstancePids().size(), 1u) << "the v2 instance started before the crash is the one "
                                             "that serves; v1's is stopped";
}

TEST(Supervisor, StartsEachInstanceInItsReleaseDirInItsOwnSessionWithLogsUnderTheHome) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  auto instances = lg.Instances();
  ASSERT_EQ(instances.size(), 1u);
  const auto& i = instances[0];

  std::error_code ec;
  auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(i.pid) + "/cwd", ec);
  EXPECT_EQ(cwd.string(), lg.home() + "/releases/web/1") << ec.message();
  EXPECT_EQ(::getsid(i.pid), i.pid) << "an instance leads its own session, so it outlives the "
                                       "controller";
  EXPECT_TRUE(std::filesystem::exists(lg.home() + "/logs/web/" + i.id + ".out.log"));
  EXPECT_TRUE(std::filesystem::exists(lg.home() + "/logs/web/" + i.id + ".err.log"));
}

TEST(Controller, DeploymentRunningAtSigtermIsResumedByTheNextController) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().Bake("2s"));
  lg.Given().Apply({"--param", "label=v2", "--no-wait"}).ExitCode(0).WaitForStep("bake");

  auto st = lg.When().StopController(SIGTERM);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->code, 0);
  lg.When().StartController().WaitForIdle();

  auto h = lg.History();
  ASSERT_EQ(h.size(), 2u) << h.dump(2);
  EXPECT_EQ(h[0]["state"], "Succeeded") << h.dump(2);
  lg.Then().Serves("v2", 1);
  EXPECT_EQ(lg.InstancePids().size(), 1u);
}

TEST(Controller, SecondControllerOnTheSameHomeIsRefused) {
  Lastgood lg;
  lg.Given();
  lastgood::testutil::ProcessOptions o;
  o.argv = {lastgood::testutil::kLastgoodBinary, "serve"};
  o.env = {{"LASTGOOD_HOME", lg.home()}};
  o.stderr_path = lg.home() + "/second.err";
  lastgood::testutil::Process second(o);
  auto st = second.Wait(10s);
  ASSERT_TRUE(st.has_value()) << "a second controller kept running on the same home";
  EXPECT_NE(st->code, 0);
  lg.Then().Run({"apps"}).ExitCode(0);
}

// A controller killed just after it forked leaves its lock to the child for a moment; the
// next controller waits that out, since the controller the lock file names is gone. Here
// flock(1) plays the child: it holds the lock for 1 s, the file names a finished process.
TEST(Controller, StartsOnceALockLeftByAChildOfADeadControllerIsFreed) {
  namespace tu = lastgood::testutil;
  Lastgood lg;
  tu::ProcessOptions run_true;
  run_true.argv = {"/bin/true"};
  tu::Process gone(run_true);
  ASSERT_TRUE(gone.Wait(5s).has_value());
  const std::string lock = lg.home() + "/controller.lock";
  std::ofstream(lock) << gone.pid() << "\n";
  tu::ProcessOptions hold;
  hold.argv = {"/usr/bin/flock", lock, "/bin/sleep", "1"};
  tu::Process child(hold);
  auto held = [&] {
    int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
    bool busy = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (fd >= 0) ::close(fd);
    return busy;
  };
  ASSERT_TRUE(WaitUntil(held, 2s, 5ms)) << "flock(1) did not take the lock";
  lg.Given();  // fails the test if the controller does not answer
  lg.Then().Run({"apps"}).ExitCode(0);
  EXPECT_FALSE(child.Running()) << "the controller started while the lock was held";
}

}  // namespace
