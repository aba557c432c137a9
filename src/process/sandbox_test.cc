#include "process/sandbox.h"

#include <dirent.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "process/child.h"
#include "process/sandbox_init.h"
#include "process/spawn.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kTestUid = 65534;  // nobody: runs the unprivileged cases

// A home with a secret, a release of app "a", a release of app "b" and a's state folder.
class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lg-sandbox-XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
    home_ = root_ + "/home";
    for (const char* d : {"/releases/a/1", "/releases/b/1", "/state/a", "/logs"}) {
      fs::create_directories(home_ + d);
    }
    std::ofstream(home_ + "/lastgood.db") << "the store\n";
    std::ofstream(home_ + "/releases/a/1/app.txt") << "release of a\n";
    std::ofstream(home_ + "/releases/b/1/app.txt") << "release of b\n";
    std::ofstream(root_ + "/tls.key") << "PRIVATE KEY\n";
    chmod(root_.c_str(), 0755);
    fs::permissions(home_, fs::perms::all, fs::perm_options::add);
  }
  void TearDown() override { fs::remove_all(root_); }

  Sandbox Box(Sandbox::Kind kind, unsigned uid) {
    Sandbox s;
    s.kind = kind;
    s.uid = uid;
    s.gid = uid;
    s.hidden = {home_};
    s.hidden_files = {root_ + "/tls.key"};
    s.read_only = {home_ + "/releases/a/1"};
    s.writable = {home_ + "/state/a"};
    s.state_dir = home_ + "/state/a";
    s.label = "a-test";
    return s;
  }

  // Runs `script` confined, with $0 = its release, $1 = the home, $2 = the key file, and
  // returns its exit code and what it printed (stdout and stderr).
  std::pair<int, std::string> Run(const Sandbox& box, const std::string& script) {
    SpawnSpec s;
    s.exec_path = "/bin/sh";
    s.argv = {"sh", "-c", script, home_ + "/releases/a/1", home_, root_ + "/tls.key"};
    s.env = {"PATH=/usr/bin:/bin"};
    s.cwd = home_ + "/releases/a/1";
    std::string log = root_ + "/out-" + std::to_string(runs_++) + ".log";
    s.out = Stdio::AppendTo(log);
    s.err = Stdio::AppendTo(log);
    s.sandbox = box;
    Result<int> pid = Spawn(s);
    if (!pid.ok()) return {-1, pid.error().message};
    Child child(*pid);
    int status = child.Reap();
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text.str()};
  }

  // Runs `body` in a child process that became kTestUid, as a controller that is not root.
  bool AsUnprivileged(const std::function<bool()>& body) {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(root_, ec)) {
      lchown(e.path().c_str(), kTestUid, kTestUid);
    }
    chown(root_.c_str(), kTestUid, kTestUid);
    pid_t pid = fork();
    if (pid == 0) {
      if (setgroups(0, nullptr) != 0 || setresgid(kTestUid, kTestUid, kTestUid) != 0 ||
          setresuid(kTestUid, kTestUid, kTestUid) != 0) {
        _exit(3);
      }
      // Changing uid made us non-dumpable, which a controller started by its user is not:
      // /proc/self would then belong to root and the user namespace could not be mapped.
      prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      _exit(body() ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  std::string root_, home_;
  int runs_ = 0;
};

// What a confined program may see and touch, asserted from inside.
constexpr const char* kProbeScript =
    "ls -A $0/.. | tr '\\n' ' '; echo; "  // its app's releases: only the one it runs
    "ls -A $1 | tr '\\n' ' '; echo; "     // the home: only the folders leading to its own
    "cat app.txt; "
    "cat $1/lastgood.db 2>/dev/null || echo 'no store'; "
    "cat $1/releases/b/1/app.txt 2>/dev/null || echo 'no release of b'; "
    "cat $2 2>/dev/null | grep -q KEY && echo 'key read' || echo 'no key'; "
    "touch app.txt 2>/dev/null && echo 'release written' || echo 'release read-only'; "
    "echo kept > $1/state/a/file && cat $1/state/a/file; "
    "echo pid $$; ls /proc | grep -c '^[0-9]'";

// Ways out that must fail: unmounting the cover (as root of a user namespace of its own),
// reading its init (which may change the mounts), signalling it.
constexpr const char* kEscapeScript =
    "; unshare -rm sh -c \"umount -l $1 && cat $1/lastgood.db\" 2>/dev/null || echo locked; "
    "cat /proc/1/environ 2>/dev/null || echo 'init unreadable'; "
    "kill -KILL 1 2>/dev/null; sleep 0.1; echo 'init alive'";
constexpr const char* kEscapesFailed = "locked\ninit unreadable\ninit alive\n";

// Without root the key file outside the home is readable by the controller's uid, so it is
// hidden; as root it is 0600 to root.
constexpr const char* kExpectedView =
    "1 \n"
    "releases state \n"
    "release of a\n"
    "no store\n"
    "no release of b\n"
    "no key\n"
    "release read-only\n"
    "kept\n"
    "pid 2\n";

TEST_F(SandboxTest, AsRootTheProgramRunsAsTheAppsUidAndSeesOnlyItsOwnFolders) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  chown((home_ + "/state/a").c_str(), kTestUid, kTestUid);
  auto [code, out] = Run(Box(Sandbox::Kind::kAppUser, kTestUid),
                         std::string(kProbeScript) + "; id -u; id -G" + kEscapeScript);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(kEscapesFailed), std::string::npos) << out;
  // /proc lists sh, ls, grep and the init at most: nothing of the host.
  EXPECT_EQ(out.substr(0, out.rfind("pid 2\n") + 6), kExpectedView);
  std::string tail = out.substr(out.rfind("pid 2\n") + 6);
  EXPECT_LE(std::stoi(tail), 4) << tail;
  EXPECT_NE(tail.find("\n65534\n65534\n"), std::string::npos) << "uid and groups: " << tail;
}

TEST_F(SandboxTest, WithoutRootAUserNamespaceGivesTheSameViewAndItCannotUndoTheMounts) {
  bool ok = AsUnprivileged([&] {
    auto [code, out] = Run(Box(Sandbox::Kind::kUserNamespace, kTestUid),
                           std::string(kProbeScript) + kEscapeScript);
    bool as_expected = code == 0 && out.rfind(kExpectedView, 0) == 0 &&
                       out.find(kEscapesFailed) != std::string::npos;
    if (!as_expected) fprintf(stderr, "exit %d:\n%s\n", code, out.c_str());
    return as_expected;
  });
  EXPECT_TRUE(ok);
}

TEST_F(SandboxTest, WhatTheProgramLeavesBehindDiesWithIt) {
  // A double fork into a session of its own: outlives an ordinary process group kill.
  auto [code, out] = Run(Box(Sandbox::Kind::kAppUser, 0),
                         "setsid sh -c 'exec sleep 123.456' & sleep 0.2; echo left; exit 7");
  EXPECT_EQ(code, 7) << out;
  EXPECT_EQ(out, "left\n");
  bool found = false;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream cmdline(e.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    found = found || text.find("123.456") != std::string::npos;
  }
  EXPECT_FALSE(found) << "the program's background child outlived it";
}

TEST_F(SandboxTest, SigtermToTheInitsGroupReachesTheProgramAndItsStatusIsReported) {
  SpawnSpec s;
  s.exec_path = "/bin/sh";
  s.argv = {"sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"};
  s.env = {"PATH=/usr/bin:/bin"};
  s.cwd = home_ + "/releases/a/1";
  s.sandbox = Box(Sandbox::Kind::kAppUser, 0);
  Result<int> pid = Spawn(s);
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  EXPECT_EQ(getsid(*pid), *pid) << "the init leads a session of its own";
  Child child(*pid);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(-*pid, SIGTERM);
  ASSERT_TRUE(child.ExitedWithin(Millis(5000)));
  int status = child.Reap();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << status;
}

TEST_F(SandboxTest, AFailureInsideTheSandboxSaysWhatFailed) {
  SpawnSpec s;
  s.exec_path = "./no-such-program";
  s.argv = {"./no-such-program"};
  s.cwd = home_ + "/releases/a/1";
  s.sandbox = Box(Sandbox::Kind::kAppUser, 0);
  SpawnFailure failure;
  Result<int> missing = Spawn(s, &failure);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(failure.stage, SpawnStage::kExec);
  EXPECT_EQ(missing.error().message, "'./no-such-program': No such file or directory");

  s.sandbox.read_only = {home_ + "/releases/a/9"};
  Result<int> no_release = Spawn(s, &failure);
  ASSERT_FALSE(no_release.ok());
  EXPECT_EQ(failure.stage, SpawnStage::kSetup);
  EXPECT_NE(no_release.error().message.find(home_ + "/releases/a/9"), std::string::npos)
      << no_release.error().message;
}

TEST(SandboxLaunch, SurvivesItsEncodingAndRefusesGarbage) {
  SandboxLaunch l;
  l.sandbox.kind = Sandbox::Kind::kUserNamespace;
  l.sandbox.uid = 1000;
  l.sandbox.gid = 100;
  l.sandbox.hidden = {"/var/lib/x/.lastgood", "with:colon"};
  l.sandbox.writable = {std::string("a\0b", 3)};
  l.exec_path = "./web";
  l.argv = {"./web", "--port", ""};
  l.env = {"A=1"};
  l.cwd = "/r";
  std::optional<SandboxLaunch> back = DecodeSandboxLaunch(EncodeSandboxLaunch(l));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->sandbox.uid, 1000u);
  EXPECT_EQ(back->sandbox.hidden, l.sandbox.hidden);
  EXPECT_EQ(back->sandbox.writable, l.sandbox.writable);
  EXPECT_EQ(back->argv, l.argv);
  EXPECT_EQ(back->cwd, "/r");
  EXPECT_FALSE(DecodeSandboxLaunch("").has_value());
  EXPECT_FALSE(DecodeSandboxLaunch(EncodeSandboxLaunch(l) + "x").has_value());
  EXPECT_FALSE(DecodeSandboxLaunch("99999999999:").has_value());
}

}  // namespace
}  // namespace lastgood
