#include "node/node.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace lastgood {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A supervisor that starts nothing: it records what it is asked, and processes in `dead`
// cannot be adopted (they died while the node was away).
class FakeTarget : public Target {
 public:
  Result<InstanceHandle> Start(const InstanceSpec& spec) override {
    started.push_back(spec.id);
    specs[spec.id] = spec;
    running[spec.id] = {spec.id, 1000 + static_cast<int>(started.size()), 7,
                        spec.port ? spec.port : 20000};
    return running[spec.id];
  }
  Result<InstanceHandle> Adopt(const InstanceSpec& spec, const InstanceHandle& h) override {
    if (dead.count(spec.id)) return Error::NotFound("gone");
    running[spec.id] = h;
    return h;
  }
  lastgood::Status Stop(const std::string& id) override {
    running.erase(id);
    return lastgood::Status::Ok();
  }
  Result<InstanceStatus> Status(const std::string& id) override {
    auto it = running.find(id);
    if (it == running.end()) return Error::NotFound("no " + id);
    return InstanceStatus{true, 0, "", it->second};
  }
  void Detach() override {}
  void StopStrays() override { ++stray_sweeps; }

  std::vector<std::string> started;
  std::map<std::string, InstanceSpec> specs;  // as last started
  std::map<std::string, InstanceHandle> running;
  std::set<std::string> dead;
  int stray_sweeps = 0;
};

class NullRouter : public RouterControl {
 public:
  lastgood::Status Apply(const RoutingTable&) override { return lastgood::Status::Ok(); }
  Result<RouterStats> Stats(Millis) override { return RouterStats{}; }
  lastgood::Status Ping() override { return lastgood::Status::Ok(); }
};

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ =
        (fs::temp_directory_path() / ("lastgood-node-unit-" + std::to_string(::getpid()))).string();
    fs::remove_all(home_);
    fs::create_directories(home_ + "/releases/web/1");
  }
  void TearDown() override { fs::remove_all(home_); }
  NodeOptions Options() const {
    NodeOptions o;
    o.home = home_;
    return o;
  }
  ApiResponse Put(Node& node, const std::string& id) {
    json spec = {{"id", id}, {"argv", {"./web"}}, {"cwd", home_ + "/releases/web/1"}};
    return node.Handle({"PUT", "/v1/instances/" + id, spec.dump(), "", {}, false, ""});
  }
  std::string home_;
  NullRouter router_;
};

TEST_F(NodeTest, AnEnsureOfAnInstanceItRunsStartsNothing) {
  FakeTarget target;
  Node node(Options(), &target, &router_);
  ASSERT_TRUE(node.Recover().ok());
  EXPECT_EQ(Put(node, "web-1").status, 200);
  EXPECT_EQ(Put(node, "web-1").status, 200);
  EXPECT_EQ(target.started.size(), 1u);
}

TEST_F(NodeTest, AfterARestartItAdoptsWhatRunsAndStartsAgainWhatDied) {
  {
    FakeTarget before;
    Node node(Options(), &before, &router_);
    ASSERT_TRUE(node.Recover().ok());
    ASSERT_EQ(Put(node, "web-1").status, 200);
    ASSERT_EQ(Put(node, "web-2").status, 200);
  }
  FakeTarget after;
  after.dead = {"web-2"};
  Node node(Options(), &after, &router_);
  auto log = node.Recover();
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ(after.started, std::vector<std::string>{"web-2"});
  EXPECT_EQ(after.running.count("web-1"), 1u);
  EXPECT_EQ(after.stray_sweeps, 1) << "strays are swept once the records are adopted";
  ASSERT_EQ(log->size(), 2u);
  EXPECT_NE((*log)[0].find("re-adopted instance web-1"), std::string::npos);
  EXPECT_NE((*log)[1].find("web-2 had stopped; started it again"), std::string::npos);
  // The port of the instance that died is kept: the router's table still points at it.
  auto list = json::parse(node.Handle({"GET", "/v1/instances", "", "", {}, false, ""}).body);
  for (const auto& i : list) {
    if (i["spec"]["id"] == "web-2") {
      EXPECT_EQ(i["status"]["handle"]["port"], 20000);
    }
  }
}

TEST_F(NodeTest, UnknownRoutesAndIdsAreNotFound) {
  FakeTarget target;
  Node node(Options(), &target, &router_);
  EXPECT_EQ(node.Handle({"GET", "/v1/nothing", "", "", {}, false, ""}).status, 404);
  EXPECT_EQ(node.Handle({"GET", "/v1/instances/..", "", "", {}, false, ""}).status, 404);
  EXPECT_EQ(node.Handle({"GET", "/v1/instances/web-9", "", "", {}, false, ""}).status, 404);
}

constexpr char kInstancePassword[] = "hunter2-correct-horse";

ApiResponse PutWithSecret(Node& node, const std::string& home, const std::string& id) {
  json spec = {
      {"id", id},
      {"argv", {"./web"}},
      {"cwd", home + "/releases/web/1"},
      {"env", {{{"name", "DB_PASSWORD"}, {"value", kInstancePassword}, {"verbatim", true}}}}};
  return node.Handle({"PUT", "/v1/instances/" + id, spec.dump(), "", {}, false, ""});
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(NodeTest, ItsFirstStartMakesAKeyOnlyItsUserMayRead) {
  FakeTarget target;
  Node node(Options(), &target, &router_);
  ASSERT_TRUE(node.Recover().ok());
  struct stat st {};
  ASSERT_EQ(::stat((home_ + "/secrets.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(NodeTest, AKeyOthersMayReadStopsTheNodeSayingWhatToDo) {
  {
    FakeTarget target;
    Node node(Options(), &target, &router_);
    ASSERT_TRUE(node.Recover().ok());
  }
  fs::permissions(home_ + "/secrets.key", fs::perms::others_read, fs::perm_options::add);
  FakeTarget target;
  Node node(Options(), &target, &router_);
  auto r = node.Recover();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
}

TEST_F(NodeTest, ASecretReachesTheInstanceButNeitherTheStateFileNorAnAnswer) {
  {
    FakeTarget target;
    Node node(Options(), &target, &router_);
    ASSERT_TRUE(node.Recover().ok());
    ASSERT_EQ(PutWithSecret(node, home_, "web-1").status, 200);
    ASSERT_EQ(target.specs["web-1"].env.size(), 1u);
    EXPECT_EQ(target.specs["web-1"].env[0].second, kInstancePassword);
    auto list = node.Handle({"GET", "/v1/instances", "", "", {}, false, ""});
    EXPECT_EQ(list.body.find(kInstancePassword), std::string::npos) << list.body;
    EXPECT_NE(list.body.find("DB_PASSWORD"), std::string::npos) << list.body;
    EXPECT_EQ(ReadWhole(home_ + "/node-state.json").find(kInstancePassword), std::string::npos);
  }
  // Restarted while the controller is away, the node starts the instance that died with its
  // secret.
  FakeTarget after;
  after.dead = {"web-1"};
  Node node(Options(), &after, &router_);
  ASSERT_TRUE(node.Recover().ok());
  ASSERT_EQ(after.started, std::vector<std::string>{"web-1"});
  ASSERT_EQ(after.specs["web-1"].env.size(), 1u);
  EXPECT_EQ(after.specs["web-1"].env[0].second, kInstancePassword);
  EXPECT_EQ(after.specs["web-1"].verbatimEnv, std::vector<std::string>{"DB_PASSWORD"});
  EXPECT_EQ(ReadWhole(home_ + "/node-state.json").find(kInstancePassword), std::string::npos);
}

TEST_F(NodeTest, AnInstanceWhoseSealedSecretWasTamperedWithIsNotStartedWithoutIt) {
  {
    FakeTarget target;
    Node node(Options(), &target, &router_);
    ASSERT_TRUE(node.Recover().ok());
    ASSERT_EQ(PutWithSecret(node, home_, "web-1").status, 200);
  }
  std::string text = ReadWhole(home_ + "/node-state.json");
  size_t at = text.find("lgs1:");
  ASSERT_NE(at, std::string::npos);
  size_t digit = text.find(':', at + 5) + 10;
  text[digit] = text[digit] == '0' ? '1' : '0';
  std::ofstream(home_ + "/node-state.json", std::ios::trunc) << text;

  FakeTarget after;
  after.dead = {"web-1"};
  Node node(Options(), &after, &router_);
  auto log = node.Recover();
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_TRUE(after.started.empty()) << "started without its secret";
  std::string all;
  for (const auto& l : *log) all += l + "\n";
  EXPECT_NE(all.find("web-1 had stopped and is not started again"), std::string::npos) << all;
  EXPECT_NE(all.find("DB_PASSWORD: its sealed value does not open"), std::string::npos) << all;
}

// An instance of app web with `run_user` ("" for none), as the controller sends it.
ApiResponse PutAs(Node& node, const std::string& home, const std::string& id,
                  const std::string& run_user) {
  json spec = {{"id", id}, {"argv", {"./web"}}, {"cwd", home + "/releases/web/1"}, {"app", "web"}};
  if (!run_user.empty()) spec["runUser"] = run_user;
  return node.Handle({"PUT", "/v1/instances/" + id, spec.dump(), "", {}, false, ""});
}

class ConfinedNodeTest : public NodeTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "app users need root";
    NodeTest::SetUp();
    ConfinementOptions o;
    o.home = home_;
    o.node = true;
    confinement_ = std::make_unique<Confinement>(o, Sandbox::Kind::kAppUser);
  }
  NodeOptions Confined() const {
    NodeOptions o = Options();
    o.confinement = confinement_.get();
    return o;
  }
  std::unique_ptr<Confinement> confinement_;
};

TEST_F(ConfinedNodeTest, ARunUserOfTheHostRunsTheInstanceAsThatUserWithTheNodesHomeHidden) {
  FakeTarget target;
  Node node(Confined(), &target, &router_);
  ASSERT_TRUE(node.Recover().ok());
  auto put = PutAs(node, home_, "web-1", "nobody");
  ASSERT_EQ(put.status, 200) << put.body;
  const Sandbox& box = target.specs["web-1"].sandbox;
  EXPECT_EQ(box.kind, Sandbox::Kind::kAppUser);
  EXPECT_EQ(box.uid, 65534u) << "nobody";
  EXPECT_EQ(box.hidden, std::vector<std::string>{fs::canonical(home_).string()});
  EXPECT_EQ(box.read_only,
            std::vector<std::string>{fs::canonical(home_ + "/releases/web/1").string()});
  EXPECT_EQ(box.state_dir, fs::canonical(home_).string() + "/state/web");
}

TEST_F(ConfinedNodeTest, WithoutRunUserEachAppGetsAUidOfItsOwnOnTheHost) {
  FakeTarget target;
  Node node(Confined(), &target, &router_);
  ASSERT_TRUE(node.Recover().ok());
  ASSERT_EQ(PutAs(node, home_, "web-1", "").status, 200);
  EXPECT_GE(target.specs["web-1"].sandbox.uid, kAppUidFirst);
  EXPECT_LT(target.specs["web-1"].sandbox.uid, kAppUidFirst + kAppUidCount);
}

TEST_F(ConfinedNodeTest, ARunUserTheHostDoesNotHaveOrRootIsRefusedNamingItAndNothingStarts) {
  FakeTarget target;
  Node node(Confined(), &target, &router_);
  ASSERT_TRUE(node.Recover().ok());
  auto ghost = PutAs(node, home_, "web-1", "lg-no-such-user");
  EXPECT_EQ(ghost.status, 400);
  EXPECT_NE(ghost.body.find("run.user 'lg-no-such-user' is not a user of this host"),
            std::string::npos)
      << ghost.body;
  auto root = PutAs(node, home_, "web-2", "root");
  EXPECT_EQ(root.status, 400);
  EXPECT_NE(root.body.find("may not be root"), std::string::npos) << root.body;
  EXPECT_TRUE(target.started.empty());
}

TEST_F(ConfinedNodeTest, ANodeThatIsNotRootRefusesToRunAnAppAsAnotherUser) {
  ConfinementOptions o;
  o.home = home_;
  o.node = true;
  Confinement user_namespaces(o, Sandbox::Kind::kUserNamespace);
  NodeOptions options = Options();
  options.confinement = &user_namespaces;
  FakeTarget target;
  Node node(options, &target, &router_);
  ASSERT_TRUE(node.Recover().ok());
  auto refused = PutAs(node, home_, "web-1", "nobody");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("only as root with app-users"), std::string::npos) << refused.body;
  EXPECT_TRUE(target.started.empty());
}

TEST_F(ConfinedNodeTest, AnInstanceRestartedByARestartedNodeIsConfinedAsItsStartWas) {
  {
    FakeTarget target;
    Node node(Confined(), &target, &router_);
    ASSERT_TRUE(node.Recover().ok());
    ASSERT_EQ(PutAs(node, home_, "web-1", "nobody").status, 200);
  }
  FakeTarget after;
  after.dead = {"web-1"};
  Node node(Confined(), &after, &router_);
  ASSERT_TRUE(node.Recover().ok());
  ASSERT_EQ(after.started, std::vector<std::string>{"web-1"});
  EXPECT_EQ(after.specs["web-1"].sandbox.uid, 65534u);
  EXPECT_EQ(after.specs["web-1"].sandbox.kind, Sandbox::Kind::kAppUser);
}

// An exec probe (a readiness check, a fleet smoke test) of app web as `run_user` that passes
// only when it runs as nobody and cannot read the node's state file.
ApiResponse ProbeAs(Node& node, const std::string& home, const std::string& run_user) {
  json probe = {{"kind", "exec"},
                {"command",
                 {"/bin/sh", "-c",
                  "test \"$(id -u)\" = 65534 && ! cat " + home + "/node-state.json >/dev/null"}},
                {"cwd", home + "/releases/web/1"},
                {"timeoutMs", 10000},
                {"app", "web"},
                {"runUser", run_user}};
  return node.Handle({"POST", "/v1/probe", probe.dump(), "", {}, false, ""});
}

TEST_F(ConfinedNodeTest, AnExecProbeRunsConfinedAsTheAppsInstancesThere) {
  FakeTarget target;
  Node node(Confined(), &target, &router_);
  ASSERT_TRUE(node.Recover().ok());
  ASSERT_TRUE(fs::exists(home_ + "/node-state.json"));
  auto confined = ProbeAs(node, home_, "nobody");
  ASSERT_EQ(confined.status, 200) << confined.body;
  EXPECT_EQ(json::parse(confined.body)["ok"], true) << confined.body;

  auto ghost = ProbeAs(node, home_, "lg-no-such-user");
  EXPECT_EQ(ghost.status, 400);
  EXPECT_NE(ghost.body.find("not a user of this host"), std::string::npos) << ghost.body;

  // The same probe on a node that confines nothing runs as the node (root) and reads the state.
  NodeOptions bare = Options();
  Node unconfined(bare, &target, &router_);
  ASSERT_TRUE(unconfined.Recover().ok());
  json probe = json::parse(R"({"kind": "exec", "timeoutMs": 10000})");
  probe["command"] = {"/bin/sh", "-c", "test \"$(id -u)\" = 65534"};
  probe["cwd"] = home_ + "/releases/web/1";
  auto as_root = unconfined.Handle({"POST", "/v1/probe", probe.dump(), "", {}, false, ""});
  ASSERT_EQ(as_root.status, 200) << as_root.body;
  EXPECT_EQ(json::parse(as_root.body)["ok"], false) << "the check itself cannot tell";
}

}  // namespace
}  // namespace lastgood
