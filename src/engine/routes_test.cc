#include "engine/routes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include "manifest/canonical.h"
#include "manifest/parser.h"
#include "router/compiled_table.h"

namespace lastgood {
namespace {

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "lg-routes-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto s = OpenSqliteStore(dir_ + "/lastgood.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    ASSERT_TRUE(store_->CreateApp("web", 1).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int AddVersion(const std::string& route) {
    auto parsed = ParseManifest("app: web\nrun: { command: [./web] }\n" + route, {});
    EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
    Version v;
    v.app = "web";
    v.manifest = ToCanonicalYaml(parsed->manifest);
    v.contentHash = v.manifest;
    return *store_->AddVersion(v);
  }
  void AddInstance(const std::string& id, const std::string& slot, int version, int port,
                   const std::string& state) {
    ASSERT_TRUE(store_
                    ->PutInstance({id, "web", slot, version, 100 + port, 1, port,
                                   *ParseInstanceState(state), 1, 0, ""})
                    .ok());
  }

  static SlotRecord Prod(int version) {
    SlotRecord r;
    r.app = "web";
    r.slot = "production";
    r.version = version;
    return r;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(RoutesTest, ASlotsTrafficShareReachesTheRoutersCompiledTable) {
  // This binary holds the controller's and the router's code, as `lastgood` does: the
  // production slot must be found by both (once, each had its own kProductionSlot).
  int v1 = AddVersion("route: { listen: 127.0.0.1:8080 }\n");
  ASSERT_TRUE(store_->SetSlot(Prod(v1)).ok());
  SlotRecord staging = Prod(v1);
  staging.slot = "staging";
  ASSERT_TRUE(store_->SetSlot(staging).ok());
  ASSERT_TRUE(store_->SetSlotWeight("web", "staging", 30).ok());
  AddInstance("a", "production", v1, 4001, "ready");
  AddInstance("b", "staging", v1, 4002, "ready");
  Routes routes(store_.get(), nullptr, Clock::Real());
  auto table = routes.Build();
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->apps[0].split.at("staging"), 30);
  StableIds pools, listeners;
  StatsRegistry stats(1);
  auto compiled = CompileTable(*table, pools, listeners, stats);
  const CompiledApp& app = compiled->apps[0];
  ASSERT_EQ(app.split_slots.size(), 2u) << "staging, then production with the rest";
  EXPECT_EQ(app.split_weights, (std::vector<int>{30, 70}));
  EXPECT_TRUE(compiled->routes[listeners.Of("127.0.0.1:8080")][0].production);
}

TEST_F(RoutesTest, ACanaryTakesExactlyItsShareAndStableTheRest) {
  int v1 = AddVersion("route: { listen: 127.0.0.1:8080 }\n");
  int v2 = AddVersion("route: { listen: 127.0.0.1:8080 }\n");
  ASSERT_TRUE(store_->SetSlot(Prod(v1)).ok());
  AddInstance("a", "production", v1, 4001, "ready");
  AddInstance("b", "production", v1, 4002, "ready");
  AddInstance("c", "production", v2, 4003, "ready");
  ASSERT_TRUE(store_->SetCanary("web", "production", v2, 10).ok());
  Routes routes(store_.get(), nullptr, Clock::Real());
  auto table = routes.Build();
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->apps.size(), 1u);
  std::map<int, int> weights;
  for (const auto& v : table->apps[0].slots[0].versions) weights[v.version] = v.weight;
  EXPECT_EQ(weights[v1], 90);
  EXPECT_EQ(weights[v2], 10);
  ASSERT_TRUE(store_->SetCanary("web", "production", v2, 0).ok());
  table = routes.Build();
  for (const auto& v : table->apps[0].slots[0].versions) weights[v.version] = v.weight;
  EXPECT_EQ(weights[v2], 0) << "a withdrawn canary gets no new request";
}

TEST_F(RoutesTest, OnlyReadyInstancesAreBackendsEachWithAnEqualShare) {
  int v1 = AddVersion("route: { listen: 127.0.0.1:8080 }\n");
  int v2 = AddVersion("route: { listen: 127.0.0.1:8080 }\n");
  ASSERT_TRUE(store_->SetSlot(Prod(v1)).ok());
  AddInstance("a", "production", v1, 4001, "ready");
  AddInstance("b", "production", v1, 4002, "warm");
  AddInstance("c", "production", v2, 4003, "ready");
  AddInstance("d", "production", v2, 4004, "ready");
  AddInstance("e", "production", v2, 4005, "starting");
  AddInstance("f", "production", v2, 4006, "draining");

  Routes routes(store_.get(), nullptr, Clock::Real());
  auto table = routes.Build();
  ASSERT_TRUE(table.ok()) << table.error().message;
  ASSERT_EQ(table->listeners.size(), 1u);
  EXPECT_EQ(table->listeners[0].address, "127.0.0.1:8080");
  EXPECT_EQ(table->listeners[0].slot, "production");
  ASSERT_EQ(table->apps.size(), 1u);
  ASSERT_EQ(table->apps[0].slots.size(), 1u);
  const auto& versions = table->apps[0].slots[0].versions;
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, v1);
  EXPECT_EQ(versions[0].weight, 1);
  ASSERT_EQ(versions[0].backends.size(), 1u);
  EXPECT_EQ(versions[0].backends[0].address, "127.0.0.1:4001");
  EXPECT_EQ(versions[1].version, v2);
  EXPECT_EQ(versions[1].weight, 2);
  EXPECT_EQ(versions[1].backends.size(), 2u);
}

TEST_F(RoutesTest, TheRouteComesFromTheNewestVersionInPlay) {
  int v1 = AddVersion("route: { listen: 127.0.0.1:8080 }\n");
  AddVersion("route: { listen: 127.0.0.1:9090, preview: 127.0.0.1:9091 }\n");
  ASSERT_TRUE(store_->SetSlot(Prod(v1)).ok());
  Routes routes(store_.get(), nullptr, Clock::Real());
  auto before = routes.Build();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->listeners.size(), 1u);
  EXPECT_EQ(before->listeners[0].address, "127.0.0.1:8080");

  ASSERT_TRUE(store_->SetSlot(Prod(2)).ok());
  auto after = routes.Build();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->listeners.size(), 2u);
  EXPECT_EQ(after->listeners[0].address, "127.0.0.1:9090");
  EXPECT_EQ(after->listeners[1].slot, "staging");
}

TEST_F(RoutesTest, AnAppWithoutARouteIsNotInTheTable) {
  int v1 = AddVersion("");
  ASSERT_TRUE(store_->SetSlot(Prod(v1)).ok());
  AddInstance("a", "production", v1, 4001, "ready");
  Routes routes(store_.get(), nullptr, Clock::Real());
  auto table = routes.Build();
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(table->listeners.empty());
  EXPECT_TRUE(table->apps.empty());
}

}  // namespace
}  // namespace lastgood
