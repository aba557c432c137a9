#include "hooks/hook_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace lastgood {
namespace {

using std::chrono::steady_clock;

// Whether the process is gone (or a zombie awaiting a reaper that is not us) within `limit`.
bool GoneWithin(int pid, Millis limit) {
  auto until = steady_clock::now() + limit;
  do {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t paren = text.rfind(')');
    if (text.empty() || (paren != std::string::npos && text.substr(paren + 2, 1) == "Z")) {
      return true;
    }
    std::this_thread::sleep_for(Millis(20));
  } while (steady_clock::now() < until);
  return false;
}

class HookRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/lastgood-hooks-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  HookRun Run(std::vector<std::string> command, Millis timeout = Millis(5000)) {
    HookRun run;
    run.name = "preDeploy";
    run.command = std::move(command);
    run.timeout = timeout;
    run.cwd = dir_;
    run.logPath = dir_ + "/logs/hooks/preDeploy.log";
    return run;
  }

  std::string Log() {
    std::ifstream in(dir_ + "/logs/hooks/preDeploy.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  HookOutcome MustRun(const HookRun& run, const std::function<bool()>& interrupted = {}) {
    auto r = RunHook(run, interrupted);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : HookOutcome{};
  }

  std::string dir_;
};

TEST_F(HookRunnerTest, ACommandThatExitsZeroIsOk) {
  HookOutcome out = MustRun(Run({"/bin/true"}));
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.exitCode, 0);
  EXPECT_FALSE(out.timedOut);
  EXPECT_EQ(out.Describe().rfind("preDeploy ok (", 0), 0u) << out.Describe();
}

TEST_F(HookRunnerTest, ANonZeroExitFailsWithItsCodeAndLastLine) {
  HookOutcome out =
      MustRun(Run({"/bin/sh", "-c", "echo first; echo 'migration 7 failed' >&2; exit 3"}));
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.exitCode, 3);
  EXPECT_EQ(out.lastLine, "migration 7 failed");
  EXPECT_EQ(out.Describe().rfind("preDeploy exited 3 after ", 0), 0u) << out.Describe();
  EXPECT_NE(out.Describe().find(": migration 7 failed"), std::string::npos) << out.Describe();
  EXPECT_FALSE(MustRun(Run({"/bin/false"})).ok);
}

TEST_F(HookRunnerTest, OutputIsAppendedToTheLogFileAcrossRuns) {
  MustRun(Run({"/bin/sh", "-c", "echo run-one"}));
  MustRun(Run({"/bin/sh", "-c", "echo run-two >&2"}));
  std::string log = Log();
  size_t one = log.find("run-one"), two = log.find("run-two");
  ASSERT_NE(one, std::string::npos) << log;
  ASSERT_NE(two, std::string::npos) << log;
  EXPECT_LT(one, two);
  EXPECT_NE(log.find("preDeploy: /bin/sh -c echo run-one"), std::string::npos) << log;
}

TEST_F(HookRunnerTest, ASilentHookHasNoLastLineEvenAfterEarlierOutput) {
  MustRun(Run({"/bin/sh", "-c", "echo earlier"}));
  EXPECT_EQ(MustRun(Run({"/bin/sh", "-c", "exit 2"})).lastLine, "");
}

TEST_F(HookRunnerTest, TheChildSeesItsEnvButNotTheControllersSecrets) {
  setenv("LASTGOOD_WEBHOOK_SECRET", "do-not-leak", 1);
  HookRun run = Run({"/bin/sh", "-c",
                     "echo \"$LASTGOOD_APP/$LASTGOOD_VERSION/$LASTGOOD_SLOT/"
                     "$LASTGOOD_DEPLOYMENT/${LASTGOOD_WEBHOOK_SECRET:-none}\""});
  run.env = {{"LASTGOOD_APP", "web"},
             {"LASTGOOD_VERSION", "7"},
             {"LASTGOOD_SLOT", "production"},
             {"LASTGOOD_DEPLOYMENT", "web-7"}};
  EXPECT_EQ(MustRun(run).lastLine, "web/7/production/web-7/none");
  unsetenv("LASTGOOD_WEBHOOK_SECRET");
}

TEST_F(HookRunnerTest, RunsInTheReleaseDirectoryAndFindsRelativeCommands) {
  std::string script = dir_ + "/migrate";
  std::ofstream(script) << "#!/bin/sh\npwd\n";
  chmod(script.c_str(), 0755);
  HookOutcome out = MustRun(Run({"./migrate", "up"}));
  EXPECT_TRUE(out.ok) << out.Describe();
  EXPECT_EQ(out.lastLine, std::filesystem::canonical(dir_).string());
}

TEST_F(HookRunnerTest, ABareNameIsLookedUpOnPath) { EXPECT_TRUE(MustRun(Run({"true"})).ok); }

TEST_F(HookRunnerTest, AHookPastItsTimeoutIsStoppedWithItsChildren) {
  auto start = steady_clock::now();
  HookOutcome out =
      MustRun(Run({"/bin/sh", "-c", "sleep 30 & echo child $!; echo waiting; wait"}, Millis(300)));
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.timedOut);
  EXPECT_EQ(out.Describe(), "preDeploy timed out after 0.3s: waiting");
  std::string log = Log();
  size_t at = log.find("\nchild ");
  ASSERT_NE(at, std::string::npos) << log;
  int child = std::stoi(log.substr(at + 7));
  EXPECT_TRUE(GoneWithin(child, Millis(1000))) << "the hook's background child survived";
}

// Whether some process's command line holds `text`.
bool AnyProcessRuns(const std::string& text) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(text) != std::string::npos && cmdline.find("-c") == std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST_F(HookRunnerTest, AConfinedHookThatCallsSetsidCannotOutliveItsTimeout) {
  chmod(dir_.c_str(), 0755);
  // A daemon in a session of its own escapes a process-group kill; not its pid namespace.
  HookRun run =
      Run({"/bin/sh", "-c", "setsid sleep 86400.25 & echo waiting; sleep 30"}, Millis(300));
  run.sandbox.kind = geteuid() == 0 ? Sandbox::Kind::kAppUser : Sandbox::Kind::kUserNamespace;
  run.sandbox.uid = geteuid() == 0 ? 65534 : getuid();
  run.sandbox.gid = geteuid() == 0 ? 65534 : getgid();
  HookOutcome out = MustRun(run);
  EXPECT_TRUE(out.timedOut) << out.Describe();
  auto until = steady_clock::now() + std::chrono::seconds(2);
  while (AnyProcessRuns("86400.25") && steady_clock::now() < until) {
    std::this_thread::sleep_for(Millis(20));
  }
  EXPECT_FALSE(AnyProcessRuns("86400.25")) << "the hook's setsid daemon outlived it";
}

TEST_F(HookRunnerTest, AHookThatIgnoresSigtermIsKilledAfterTheGrace) {
  auto start = steady_clock::now();
  HookOutcome out = MustRun(Run(
      {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"}, Millis(200)));
  auto took = steady_clock::now() - start;
  EXPECT_TRUE(out.timedOut);
  EXPECT_GE(took, kHookKillGrace);
  EXPECT_LT(took, kHookKillGrace + std::chrono::seconds(2));
}

TEST_F(HookRunnerTest, AnInterruptionStopsTheHookPromptly) {
  std::atomic<bool> stop{false};
  std::thread later([&] {
    std::this_thread::sleep_for(Millis(200));
    stop = true;
  });
  auto start = steady_clock::now();
  HookOutcome out = MustRun(Run({"sleep", "30"}), [&] { return stop.load(); });
  later.join();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.interrupted);
  EXPECT_FALSE(out.timedOut);
  EXPECT_EQ(out.Describe().rfind("preDeploy interrupted after ", 0), 0u) << out.Describe();
}

TEST_F(HookRunnerTest, AMissingCommandOrDirectoryIsAnErrorThatSaysWhich) {
  auto missing = RunHook(Run({"./no-such-migrate"}), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kFailed);
  EXPECT_NE(missing.error().message.find("./no-such-migrate"), std::string::npos);

  HookRun run = Run({"/bin/true"});
  run.cwd = dir_ + "/no-such-release";
  auto no_cwd = RunHook(run, {});
  ASSERT_FALSE(no_cwd.ok());
  EXPECT_NE(no_cwd.error().message.find("no-such-release"), std::string::npos)
      << no_cwd.error().message;

  auto empty = RunHook(Run({}), {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidInput);
}

TEST_F(HookRunnerTest, ArgumentsReachTheCommandUnchangedWithoutAShell) {
  HookOutcome out = MustRun(Run({"/bin/echo", "$HOME", "a;b", "'q'"}));
  EXPECT_EQ(out.lastLine, "$HOME a;b 'q'");
}

}  // namespace
}  // namespace lastgood
