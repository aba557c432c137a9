#include "node/node.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

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

}  // namespace
}  // namespace lastgood
