#include "targets/local/local_target.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "process/process_state.h"
#include "process/spawn.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lg-target-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool WaitFor(const std::function<bool()>& done, Millis timeout = Millis(5000)) {
  auto deadline = steady_clock::now() + timeout;
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(Millis(10));
  }
  return done();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Test processes only: a shell script gives us a process that reports or misbehaves.
InstanceSpec ShellSpec(const TempDir& dir, const std::string& id, const std::string& script) {
  InstanceSpec spec;
  spec.id = id;
  spec.argv = {"/bin/sh", "-c", script};
  spec.cwd = dir.path();
  spec.logDir = dir.path() + "/logs";
  spec.stopGrace = Millis(2000);
  return spec;
}

bool Running(int pid) { return kill(pid, 0) == 0 && ProcessStartTime(pid) != 0; }

TEST(LocalTarget, StartsWithEnvCwdAndPortVisibleAndLogsInFiles) {
  TempDir dir;
  auto target = NewLocalTarget();
  InstanceSpec spec =
      ShellSpec(dir, "web-1",
                "echo \"port=$PORT arg=$0 greeting=$GREETING id=$LASTGOOD_INSTANCE pwd=$(pwd) "
                "lang=$LANG\"; echo oops >&2; exec sleep 30");
  spec.argv.push_back("${PORT}-${NOPE}");  // becomes $0 of the script
  spec.env = {{"GREETING", "hello on ${PORT}"}};
  Result<InstanceHandle> h = target->Start(spec);
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_GT(h->port, 0);
  EXPECT_EQ(getsid(h->pid), h->pid) << "an instance runs in its own session";
  EXPECT_EQ(h->startTime, ProcessStartTime(h->pid));

  std::string out_log = dir.path() + "/logs/web-1.out.log";
  ASSERT_TRUE(WaitFor([&] { return ReadFile(out_log).find('\n') != std::string::npos; }));
  std::string p = std::to_string(h->port);
  EXPECT_EQ(ReadFile(out_log), "port=" + p + " arg=" + p + "-${NOPE} greeting=hello on " + p +
                                   " id=web-1 pwd=" + fs::canonical(dir.path()).string() +
                                   " lang=C.UTF-8\n");
  ASSERT_TRUE(WaitFor([&] { return ReadFile(dir.path() + "/logs/web-1.err.log") == "oops\n"; }));
  EXPECT_EQ(fs::status(out_log).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  EXPECT_TRUE(target->Stop("web-1").ok());
  EXPECT_FALSE(Running(h->pid));
  Result<InstanceStatus> st = target->Status("web-1");
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->alive);
  EXPECT_EQ(st->lastExit, "killed by signal 15");
}

TEST(LocalTarget, FindsABareCommandOnThePathOfTheInstanceEnv) {
  TempDir dir;
  auto target = NewLocalTarget();
  InstanceSpec spec = ShellSpec(dir, "bare", "");
  spec.argv = {"sleep", "30"};
  Result<InstanceHandle> h = target->Start(spec);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_TRUE(Running(h->pid));
  EXPECT_TRUE(target->Stop("bare").ok());
}

TEST(LocalTarget, FailsClearlyWhenTheCommandDoesNotExist) {
  TempDir dir;
  auto target = NewLocalTarget();
  InstanceSpec spec = ShellSpec(dir, "missing", "");
  spec.argv = {"./x"};
  Result<InstanceHandle> h = target->Start(spec);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, ErrorCode::kFailed);
  EXPECT_EQ(h.error().message, "run.command[0] './x': No such file or directory");

  spec.argv = {"no-such-command-anywhere"};
  h = target->Start(spec);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("'no-such-command-anywhere': No such file or directory"),
            std::string::npos)
      << h.error().message;
  EXPECT_EQ(target->Status("missing").error().code, ErrorCode::kNotFound);
}

TEST(LocalTarget, FailsClearlyWhenTheCwdDoesNotExist) {
  TempDir dir;
  auto target = NewLocalTarget();
  InstanceSpec spec = ShellSpec(dir, "nocwd", "exit 0");
  spec.cwd = dir.path() + "/gone";
  Result<InstanceHandle> h = target->Start(spec);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("No such file or directory"), std::string::npos);
  EXPECT_NE(h.error().message.find("/gone"), std::string::npos);
}

TEST(LocalTarget, RestartsACrashingInstanceWithBackoffOnTheSamePort) {
  TempDir dir;
  auto target = NewLocalTarget();
  Result<InstanceHandle> h = target->Start(ShellSpec(dir, "crash", "echo $PORT; exit 3"));
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_TRUE(WaitFor([&] { return target->Status("crash")->restarts >= 1; }));
  // Backoff 0.5s, 1s, 2s: after ~2s there have been two restarts, not dozens.
  std::this_thread::sleep_for(Millis(1900));
  Result<InstanceStatus> st = target->Status("crash");
  EXPECT_GE(st->restarts, 2);
  EXPECT_LE(st->restarts, 3);
  EXPECT_EQ(st->lastExit, "exited with status 3");
  EXPECT_EQ(st->handle.port, h->port);
  EXPECT_TRUE(target->Stop("crash").ok());
  std::string p = std::to_string(h->port) + "\n";
  EXPECT_EQ(ReadFile(dir.path() + "/logs/crash.out.log").substr(0, 2 * p.size()), p + p);
}

TEST(LocalTarget, StopKillsAProcessThatIgnoresSigtermAfterTheGrace) {
  TempDir dir;
  auto target = NewLocalTarget();
  InstanceSpec spec = ShellSpec(dir, "stubborn", "trap '' TERM; echo ready; exec sleep 30");
  spec.stopGrace = Millis(300);
  Result<InstanceHandle> h = target->Start(spec);
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(dir.path() + "/logs/stubborn.out.log") == "ready\n"; }));
  auto begin = steady_clock::now();
  EXPECT_TRUE(target->Stop("stubborn").ok());
  auto took = steady_clock::now() - begin;
  EXPECT_GE(took, Millis(300));
  EXPECT_LT(took, Millis(2000));
  EXPECT_FALSE(Running(h->pid));
  EXPECT_EQ(target->Status("stubborn")->lastExit, "killed by signal 9");
  EXPECT_TRUE(target->Stop("stubborn").ok()) << "stopping twice succeeds";
  EXPECT_TRUE(target->Stop("never-started").ok());
}

TEST(LocalTarget, AnotherControllerAdoptsARunningInstanceAndStopsIt) {
  TempDir dir;
  InstanceSpec spec = ShellSpec(dir, "kept", "exec sleep 30");
  InstanceHandle handle;
  {
    auto first = NewLocalTarget();
    Result<InstanceHandle> h = first->Start(spec);
    ASSERT_TRUE(h.ok()) << h.error().message;
    handle = *h;
  }  // the first controller goes away; its instance must not
  ASSERT_TRUE(Running(handle.pid));

  auto second = NewLocalTarget();
  InstanceHandle wrong = handle;
  wrong.startTime += 1;
  Result<InstanceHandle> refused = second->Adopt(spec, wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);

  Result<InstanceHandle> adopted = second->Adopt(spec, handle);
  ASSERT_TRUE(adopted.ok()) << adopted.error().message;
  EXPECT_EQ(adopted->pid, handle.pid);
  EXPECT_EQ(adopted->port, handle.port);
  std::this_thread::sleep_for(Millis(250));  // a few monitor ticks: still seen alive
  EXPECT_TRUE(second->Status("kept")->alive);

  EXPECT_TRUE(second->Stop("kept").ok());
  EXPECT_FALSE(Running(handle.pid));
  EXPECT_FALSE(second->Status("kept")->alive);
}

TEST(LocalTarget, DetachLeavesInstancesRunning) {
  TempDir dir;
  auto target = NewLocalTarget();
  Result<InstanceHandle> h = target->Start(ShellSpec(dir, "left", "exec sleep 30"));
  ASSERT_TRUE(h.ok()) << h.error().message;
  target->Detach();
  EXPECT_EQ(target->Status("left").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(target->Stop("left").ok());  // unknown now: nothing to stop
  std::this_thread::sleep_for(Millis(250));
  EXPECT_TRUE(Running(h->pid));
  EXPECT_EQ(ProcessStartTime(h->pid), h->startTime);
  kill(-h->pid, SIGKILL);
  waitpid(h->pid, nullptr, 0);
}

TEST(LocalTarget, StopStraysStopsOnlyInstanceProcessesItStartedAndDoesNotSupervise) {
  TempDir dir;
  const std::string launches = dir.path() + "/run/instances";
  fs::create_directories(dir.path() + "/web/1");  // a release folder
  auto in_release = [&](const std::string& id) {
    InstanceSpec spec = ShellSpec(dir, id, "exec sleep 30");
    spec.cwd = dir.path() + "/web/1";
    return spec;
  };
  Result<InstanceHandle> stray = Error::Internal("not started");
  {
    auto crashed = NewLocalTarget(launches);
    stray = crashed->Start(in_release("stray"));
    ASSERT_TRUE(stray.ok()) << stray.error().message;
    crashed->Detach();  // as a controller that died before recording it
  }
  // An operator's shell in the same release folder, in a session of its own, even one that
  // copied an instance's marker, and even one a launch record names with another start time.
  SpawnSpec shell;
  shell.exec_path = "/bin/sleep";  // one exec: its environment is settled once Spawn returns
  shell.argv = {"sleep", "30"};
  shell.env = {"LASTGOOD_INSTANCE=web-1"};
  shell.cwd = dir.path() + "/web/1";
  shell.detach = SpawnSpec::Detach::kSession;
  Result<int> operator_shell = Spawn(shell);
  ASSERT_TRUE(operator_shell.ok());
  std::ofstream(launches + "/web-1") << *operator_shell << " 12345\n";
  // An instance whose start its controller did not live to record: only a pending record.
  SpawnSpec unrecorded = shell;
  unrecorded.env = {"LASTGOOD_INSTANCE=web-2"};
  Result<int> pending = Spawn(unrecorded);
  ASSERT_TRUE(pending.ok());
  std::ofstream(launches + "/web-2") << "0 0\n";
  // execve lets Spawn go on before the new image's environment is in place: wait for it.
  for (int pid : {*operator_shell, *pending}) {
    ASSERT_TRUE(WaitFor([&] {
      return ReadFile("/proc/" + std::to_string(pid) + "/environ").find("LASTGOOD_INSTANCE") !=
             std::string::npos;
    }));
  }

  auto target = NewLocalTarget(launches);
  Result<InstanceHandle> kept = target->Start(in_release("kept"));
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  target->StopStrays();
  // Still our child here (a controller's would be reparented): it is gone once reaped.
  EXPECT_TRUE(WaitFor([&] { return waitpid(stray->pid, nullptr, WNOHANG) == stray->pid; }))
      << "the stray instance survived";
  EXPECT_TRUE(WaitFor([&] { return waitpid(*pending, nullptr, WNOHANG) == *pending; }))
      << "the instance with a pending record survived";
  EXPECT_TRUE(Running(kept->pid));
  EXPECT_TRUE(target->Status("kept")->alive);
  EXPECT_TRUE(Running(*operator_shell)) << "the operator's shell was stopped";
  EXPECT_FALSE(fs::exists(launches + "/web-1")) << "a record that names no instance stays";
  EXPECT_TRUE(target->Stop("kept").ok());
  EXPECT_FALSE(fs::exists(launches + "/kept")) << "a stopped instance keeps its record";
  kill(*operator_shell, SIGKILL);
  waitpid(*operator_shell, nullptr, 0);
}

TEST(LocalTarget, RefusesToStartAnIdThatIsAlreadyRunning) {
  TempDir dir;
  auto target = NewLocalTarget();
  InstanceSpec spec = ShellSpec(dir, "twice", "exec sleep 30");
  ASSERT_TRUE(target->Start(spec).ok());
  Result<InstanceHandle> again = target->Start(spec);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(target->Stop("twice").ok());
  Result<InstanceHandle> restarted = target->Start(spec);
  EXPECT_TRUE(restarted.ok());
  EXPECT_TRUE(target->Stop("twice").ok());
}

TEST(PickFreePort, DoesNotHandOutTheSamePortTwice) {
  std::set<int> seen;
  for (int i = 0; i < 50; ++i) {
    Result<int> port = PickFreePort();
    ASSERT_TRUE(port.ok()) << port.error().message;
    EXPECT_TRUE(seen.insert(*port).second) << *port;
  }
}

// Outgoing connections take their source ports from the ephemeral range; an instance's port
// is chosen below it, so none of them can take it before the instance binds it.
TEST(PickFreePort, ChoosesBelowTheEphemeralRangeAndAPortThatIsFree) {
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    ASSERT_EQ(std::fscanf(f, "%d", &low), 1);
    std::fclose(f);
  }
  if (low < 11000) GTEST_SKIP() << "the ephemeral range starts at " << low;
  for (int i = 0; i < 20; ++i) {
    Result<int> port = PickFreePort();
    ASSERT_TRUE(port.ok()) << port.error().message;
    EXPECT_GE(*port, 10000);
    EXPECT_LT(*port, low);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(*port));
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << *port;
    ::close(fd);
  }
}

}  // namespace
}  // namespace lastgood
