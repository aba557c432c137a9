#include "process/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "process/child.h"
#include "process/path.h"
#include "process/process_state.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

class SpawnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lg-spawn-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }

  SpawnSpec Shell(const std::string& script) {
    SpawnSpec s;
    s.exec_path = "/bin/sh";
    s.argv = {"sh", "-c", script};
    s.env = {"PATH=/usr/bin:/bin", "GREETING=hi there"};
    s.out = Stdio::AppendTo(dir_ + "/out.log");
    return s;
  }
  int RunToEnd(const SpawnSpec& s) {
    Result<int> pid = Spawn(s);
    EXPECT_TRUE(pid.ok()) << pid.error().message;
    if (!pid.ok()) return -1;
    Child child(*pid);
    return child.Reap();
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string dir_;
};

TEST_F(SpawnTest, TheChildGetsExactlyItsArgvEnvironmentAndDirectory) {
  SpawnSpec s = Shell("printf '%s|%s|%s|%s\\n' \"$0\" \"$1\" \"$GREETING\" \"$(pwd)\"");
  s.argv.push_back("zero");
  s.argv.push_back("a b;$c");
  s.cwd = dir_;
  int status = RunToEnd(s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(Read("out.log"), "zero|a b;$c|hi there|" + fs::canonical(dir_).string() + "\n");
}

TEST_F(SpawnTest, OutputIsAppendedAndTheLogIsPrivate) {
  RunToEnd(Shell("echo one"));
  RunToEnd(Shell("echo two"));
  EXPECT_EQ(Read("out.log"), "one\ntwo\n");
  EXPECT_EQ(fs::status(dir_ + "/out.log").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(SpawnTest, NoDescriptorOfTheCallerLeaksIntoTheChild) {
  int leaky = open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(leaky, 3);
  RunToEnd(Shell("ls /proc/self/fd | wc -l"));
  close(leaky);
  // 0, 1, 2 and the descriptor ls opens to read the folder.
  EXPECT_EQ(Read("out.log"), "4\n");
}

TEST_F(SpawnTest, TheChildStartsWithNoSignalBlockedEvenWhenTheCallerBlocksThem) {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  Result<int> pid = Spawn(Shell("exec sleep 30"));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(pid.ok());
  Child child(*pid);
  kill(*pid, SIGTERM);
  EXPECT_TRUE(child.ExitedWithin(Millis(5000)));
  int status = child.Reap();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

TEST_F(SpawnTest, DetachGivesASessionOrAGroupOfItsOwn) {
  SpawnSpec s = Shell("exec sleep 30");
  s.detach = SpawnSpec::Detach::kSession;
  Result<int> session = Spawn(s);
  s.detach = SpawnSpec::Detach::kGroup;
  Result<int> group = Spawn(s);
  ASSERT_TRUE(session.ok() && group.ok());
  EXPECT_EQ(getsid(*session), *session);
  EXPECT_EQ(getpgid(*group), *group);
  EXPECT_EQ(getsid(*group), getsid(0));
  for (int pid : {*session, *group}) {
    Child child(pid);
    child.StopGroup(Millis(1000));
    child.Reap();
  }
}

TEST_F(SpawnTest, AFailureSaysWhichStageAndWhatFailed) {
  SpawnSpec s = Shell("true");
  s.cwd = dir_ + "/gone";
  SpawnFailure failure;
  Result<int> no_cwd = Spawn(s, &failure);
  ASSERT_FALSE(no_cwd.ok());
  EXPECT_EQ(failure.stage, SpawnStage::kCwd);
  EXPECT_EQ(no_cwd.error().message, "cwd '" + dir_ + "/gone': No such file or directory");

  s = Shell("true");
  s.err = Stdio::AppendTo(dir_ + "/no/such/dir/err.log");
  Result<int> no_log = Spawn(s, &failure);
  ASSERT_FALSE(no_log.ok());
  EXPECT_EQ(failure.stage, SpawnStage::kStderr);
  EXPECT_NE(no_log.error().message.find("log file '" + dir_ + "/no/such/dir/err.log'"),
            std::string::npos);

  s = Shell("true");
  s.exec_path = dir_ + "/no-such-program";
  s.argv[0] = "./no-such-program";
  Result<int> no_program = Spawn(s, &failure);
  ASSERT_FALSE(no_program.ok());
  EXPECT_EQ(failure.stage, SpawnStage::kExec);
  EXPECT_EQ(failure.err, ENOENT);
  EXPECT_EQ(no_program.error().message, "'./no-such-program': No such file or directory");
}

TEST_F(SpawnTest, ADescriptorOfTheCallerCanBecomeTheChildsOutput) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  SpawnSpec s = Shell("echo through the pipe");
  s.out = Stdio::Fd(fds[1]);
  Result<int> pid = Spawn(s);
  close(fds[1]);
  ASSERT_TRUE(pid.ok());
  char buf[64] = {};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  Child(*pid).Reap();
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "through the pipe\n");
}

TEST(ProcessState, NamesAProcessByItsStartTimeAndSaysHowItEnded) {
  EXPECT_NE(ProcessStartTime(getpid()), 0u);
  EXPECT_EQ(ReadProcessState(getpid()).ppid, getppid());
  EXPECT_EQ(ProcessStartTime(-1), 0u);
  EXPECT_EQ(DescribeWaitStatus(3 << 8), "exited with status 3");
  EXPECT_EQ(DescribeWaitStatus(SIGKILL), "killed by signal 9");
}

}  // namespace
}  // namespace lastgood
