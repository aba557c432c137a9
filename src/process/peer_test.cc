#include "process/peer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "process/child.h"
#include "process/spawn.h"

namespace lastgood {
namespace {

int FirstChild(int pid);

// A `sh` that starts `sleep` and waits; returns the sh's pid once its child runs (so that its
// own environment is in place: Spawn returns while execve is still finishing).
int ShellWithChild(const std::vector<std::string>& env, const Sandbox& box = {}) {
  SpawnSpec s;
  s.exec_path = "/bin/sh";
  s.argv = {"sh", "-c", "sleep 30 & wait"};
  s.env = env;
  s.env.push_back("PATH=/usr/bin:/bin");
  s.detach = SpawnSpec::Detach::kGroup;
  s.sandbox = box;
  Result<int> pid = Spawn(s);
  EXPECT_TRUE(pid.ok()) << pid.error().message;
  if (!pid.ok()) return -1;
  EXPECT_GT(FirstChild(*pid), 0);
  return *pid;
}

// The first child of `pid` (from /proc), waiting up to 5 s for one.
int FirstChild(int pid) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    int child = 0;
    if (in >> child && child > 0) return child;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

void StopAll(int pid) {
  Child child(pid);
  child.StopGroup(Millis(1000));
  child.Reap();
}

TEST(ClassifyPeer, AnOperatorsProcessIsNotDeployedCode) {
  EXPECT_FALSE(ClassifyPeer(getpid()).deployed);
  int shell = ShellWithChild({"HOME=/root"});
  EXPECT_FALSE(ClassifyPeer(shell).deployed);
  EXPECT_FALSE(ClassifyPeer(FirstChild(shell)).deployed);
  StopAll(shell);
}

TEST(ClassifyPeer, AnInstanceOrAHookAndWhatTheyStartAreDeployedCode) {
  int instance = ShellWithChild({"LASTGOOD_INSTANCE=web-production-v1-ab12"});
  PeerVerdict itself = ClassifyPeer(instance);
  EXPECT_TRUE(itself.deployed);
  EXPECT_EQ(itself.why, "it carries LASTGOOD_INSTANCE=web-production-v1-ab12");
  // Its child scrubs nothing here, but even one that did is a descendant of the marked one.
  PeerVerdict child = ClassifyPeer(FirstChild(instance));
  EXPECT_TRUE(child.deployed);
  StopAll(instance);

  int hook = ShellWithChild({"LASTGOOD_DEPLOYMENT=deploy-3-3"});
  EXPECT_TRUE(ClassifyPeer(FirstChild(hook)).deployed);
  StopAll(hook);
}

TEST(ClassifyPeer, AConfinedProcessIsDeployedCodeByItsNamespaces) {
  Sandbox box;
  box.kind = geteuid() == 0 ? Sandbox::Kind::kAppUser : Sandbox::Kind::kUserNamespace;
  box.uid = geteuid() == 0 ? 65534 : getuid();
  box.gid = geteuid() == 0 ? 65534 : getgid();
  int init = ShellWithChild({}, box);  // no marker: its namespaces say enough
  int program = FirstChild(init);
  PeerVerdict v = ClassifyPeer(program);
  EXPECT_TRUE(v.deployed);
  EXPECT_EQ(v.why.rfind("in a ", 0), 0u) << v.why;
  StopAll(init);
}

TEST(ClassifyPeer, NoPidIsDeployedCode) { EXPECT_TRUE(ClassifyPeer(0).deployed); }

}  // namespace
}  // namespace lastgood
