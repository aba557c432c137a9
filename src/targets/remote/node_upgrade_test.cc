#include "targets/remote/node_upgrade.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace lastgood {
namespace {

constexpr char kHome[] = "/srv/node";
constexpr char kOld[] = "aaaaaaaaaaaaaaaaaaaa";
constexpr char kNew[] = "bbbbbbbbbbbbbbbbbbbb";

// A host as the upgrade sees it: the files of DIR/bin (which build each runs as), the node
// that runs (its build, "" for none) and its router's build.
class ScriptedHost : public NodeHost {
 public:
  ScriptedHost() {
    binaries[NodeBinaryPath(kHome, kOld)] = kOld;
    node = kOld;
    node_exe = NodeBinaryPath(kHome, kOld);
    router = kOld;
  }

  Result<NodeInfo> Info() override {
    if (node.empty()) return Error::Unavailable("cannot connect to the node's socket");
    NodeInfo i;
    i.buildId = node;
    i.version = "0.10.0";
    i.pid = 4242;
    return i;
  }
  Result<RouterHealth> RouterHealthOf() override {
    RouterHealth h;
    h.buildId = router;
    return h;
  }
  Status StopNode() override {
    ++stops;
    node.clear();
    return Status::Ok();
  }
  CommandResult Run(const std::vector<std::string>& argv, const std::string& stdin_path,
                    Millis) override {
    commands.push_back(argv);
    const std::string& cmd = argv[0];
    if (cmd == "mkdir") return {0, ""};
    if (cmd == "readlink") return {0, node_exe + "\n"};
    if (cmd == "sh" && argv[3] == "lastgood-install") {
      ++copies;
      EXPECT_FALSE(stdin_path.empty());
      binaries[argv[5]] = copy_runs_as;
      return {0, ""};
    }
    if (cmd == "sh" && argv[3] == "lastgood-point") {
      pointed = argv[4];
      return {0, ""};
    }
    if (cmd == "sh" && argv[3] == "lastgood-prune") {
      kept = {argv[5], argv[6]};
      return {0, ""};
    }
    auto bin = binaries.find(cmd);
    if (bin == binaries.end() || bin->second.empty()) return {127, cmd + ": cannot execute"};
    if (argv[1] == "version")  // as `version -o json` prints it, after a shell's greeting
      return {0, "motd line\n{\n  \"buildId\": \"" + bin->second +
                     "\",\n  \"version\": \"0.10.0\"\n}\n"};
    if (argv[1] == "node") {
      if (!node.empty() || lock_held > 0) {
        --lock_held;
        return {3, "another node is running with home /srv/node"};
      }
      if (will_not_start.count(cmd)) return {5, "the node exited at start"};
      started.push_back(cmd);
      node = bin->second;
      node_exe = cmd;
      if (router_follows) router = node;
      return {0, ""};
    }
    return {1, "unexpected command " + cmd};
  }
  void Sleep(Millis) override {}

  std::map<std::string, std::string> binaries;  // path → the build it runs as ("": does not run)
  std::string node, node_exe, router;
  std::string copy_runs_as = kNew;  // what a copied file turns out to be
  bool router_follows = true;       // the new node's take-over succeeds
  int lock_held = 0;                // starts refused before the old node's lock is free
  std::set<std::string> will_not_start;
  std::vector<std::vector<std::string>> commands;
  std::vector<std::string> started;
  std::string pointed;
  std::vector<std::string> kept;
  int copies = 0, stops = 0;
};

const NodeBinary kBinary{"/usr/local/bin/lastgood", kNew};

TEST(NodeUpgrade, ANodeOfAnotherBuildIsReplacedItsRouterTakenOverAndTheBinaryPointedAtIt) {
  ScriptedHost host;
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_TRUE(up->changed);
  EXPECT_TRUE(up->copied);
  EXPECT_EQ(up->from.buildId, kOld);
  EXPECT_EQ(up->to.buildId, kNew);
  EXPECT_EQ(up->routerBuild, kNew);
  EXPECT_EQ(host.stops, 1);
  EXPECT_EQ(host.started, std::vector<std::string>{NodeBinaryPath(kHome, kNew)});
  EXPECT_EQ(host.pointed, "lastgood-" + std::string(kNew));
  // The previous build stays on the host for a way back.
  EXPECT_EQ(host.kept, (std::vector<std::string>{"lastgood-" + std::string(kNew),
                                                 "lastgood-" + std::string(kOld)}));
}

TEST(NodeUpgrade, ANodeAlreadyOfTheControllersBuildIsLeftAlone) {
  ScriptedHost host;
  host.node = kNew;
  host.router = kNew;
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_FALSE(up->changed);
  EXPECT_EQ(host.stops, 0);
  EXPECT_TRUE(host.commands.empty());
}

TEST(NodeUpgrade, ABinaryAlreadyOnTheHostIsNotSentAgain) {
  ScriptedHost host;
  host.binaries[NodeBinaryPath(kHome, kNew)] = kNew;
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_FALSE(up->copied);
  EXPECT_EQ(host.copies, 0);
  EXPECT_EQ(host.node, kNew);
}

TEST(NodeUpgrade, ABinaryThatDoesNotRunOnTheHostStopsNothing) {
  ScriptedHost host;
  host.copy_runs_as = "";  // e.g. a library missing there
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.error().message.find("does not run there"), std::string::npos) << up.error().message;
  EXPECT_EQ(host.stops, 0);
  EXPECT_EQ(host.node, kOld);
  EXPECT_TRUE(host.pointed.empty());
}

TEST(NodeUpgrade, ACopyThatIsAnotherBuildIsRefusedBeforeAnythingStops) {
  ScriptedHost host;
  host.copy_runs_as = "cccccccccccccccc";
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.error().message.find("says it is build cccccccccccc"), std::string::npos)
      << up.error().message;
  EXPECT_EQ(host.stops, 0);
}

TEST(NodeUpgrade, ANewNodeThatDoesNotStartLeavesTheOldOneServingAndSaysWhy) {
  ScriptedHost host;
  host.will_not_start.insert(NodeBinaryPath(kHome, kNew));
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.error().code, ErrorCode::kUnavailable);
  const std::string& m = up.error().message;
  EXPECT_NE(m.find("did not start on web1"), std::string::npos) << m;
  EXPECT_NE(m.find("the node exited at start"), std::string::npos) << m;
  EXPECT_NE(m.find("serves again"), std::string::npos) << m;
  EXPECT_EQ(host.node, kOld);
  EXPECT_EQ(host.router, kOld);
  EXPECT_EQ(host.started, std::vector<std::string>{NodeBinaryPath(kHome, kOld)});
  EXPECT_TRUE(host.pointed.empty()) << "DIR/bin/lastgood still names the build that serves";
}

TEST(NodeUpgrade, WhenNeitherNodeStartsTheErrorSaysTheHostServesWithoutOne) {
  ScriptedHost host;
  host.will_not_start = {NodeBinaryPath(kHome, kNew), NodeBinaryPath(kHome, kOld)};
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.error().message.find("did not start again either"), std::string::npos)
      << up.error().message;
  EXPECT_NE(up.error().message.find("serve on without a node"), std::string::npos)
      << up.error().message;
}

TEST(NodeUpgrade, AnOldNodeStillHoldingItsLockIsWaitedFor) {
  ScriptedHost host;
  host.lock_held = 3;
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(host.node, kNew);
}

TEST(NodeUpgrade, ARouterThatWasNotTakenOverIsAnErrorThatSaysTheOldRouterServesOn) {
  ScriptedHost host;
  host.router_follows = false;
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.error().message.find("its router still runs build aaaaaaaaaaaa"), std::string::npos)
      << up.error().message;
  EXPECT_EQ(host.node, kNew) << "the new node serves; it retries the take-over itself";
}

TEST(NodeUpgrade, AHostWhoseNodeDoesNotAnswerIsNotTouched) {
  ScriptedHost host;
  host.node.clear();
  auto up = UpgradeNode(&host, "web1", kHome, kBinary);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.error().message.find("host add"), std::string::npos) << up.error().message;
  EXPECT_TRUE(host.commands.empty());
}

TEST(NodeUpgrade, TheBinarysFileNameHoldsOnlyPlainCharactersOfTheBuildId) {
  EXPECT_EQ(NodeBinaryPath("/h", "3f1c0e"), "/h/bin/lastgood-3f1c0e");
  EXPECT_EQ(NodeBinaryPath("/h", "../x y"), "/h/bin/lastgood-.._x_y");
  EXPECT_EQ(NodeBinaryPath("/h", ""), "/h/bin/lastgood-unknown");
}

}  // namespace
}  // namespace lastgood
