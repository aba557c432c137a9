#include "router/choose_backend.h"

#include <gtest/gtest.h>

#include <vector>

namespace lastgood {
namespace {

RouteVersion V(int version, int weight, int backends) {
  RouteVersion v{version, weight, {}};
  for (int i = 0; i < backends; ++i) {
    v.backends.push_back({"v" + std::to_string(version) + "-" + std::to_string(i),
                          "127.0.0.1:" + std::to_string(20000 + version * 10 + i)});
  }
  return v;
}

// App "web": production and staging slots, one listener each; no I/O anywhere.
class ChooseBackendTest : public ::testing::Test {
 protected:
  void Compile(const std::function<void(RouteApp&)>& edit = {}) {
    RoutingTable t;
    RouteApp app;
    app.name = "web";
    app.slots.push_back({"production", {V(1, 75, 3), V(2, 25, 1)}});
    app.slots.push_back({"staging", {V(3, 100, 1)}});
    if (edit) edit(app);
    t.apps.push_back(app);
    t.listeners.push_back({"127.0.0.1:8080", "", "web", "production"});
    t.listeners.push_back({"127.0.0.1:8081", "", "web", "staging"});
    table_ = CompileTable(t, pools_, listeners_, stats_);
    swrr_.assign(table_->swrr_size, 0);
    round_robin_.assign(table_->round_robin_size, 0);
  }
  BackendChoice Choose(const RouteRequest& r, bool preview = false) {
    const ListenerRoute& route = table_->routes[preview ? 1 : 0][0];
    return ChooseBackend(table_->apps[0], route, r, {swrr_.data(), round_robin_.data()});
  }
  std::string Slot(const BackendChoice& c) { return table_->apps[0].slots[c.slot].name; }

  StableIds pools_, listeners_;
  StatsRegistry stats_{1};
  std::shared_ptr<const CompiledTable> table_;
  std::vector<int64_t> swrr_;
  std::vector<uint32_t> round_robin_;
};

TEST_F(ChooseBackendTest, SplitsVersionsExactlyByWeightAndBackendsInTurn) {
  Compile();
  int v2 = 0;
  std::vector<size_t> v1_backends;
  for (int i = 0; i < 100; ++i) {
    BackendChoice c = Choose({});
    ASSERT_NE(c.version, nullptr);
    EXPECT_EQ(Slot(c), "production");
    EXPECT_FALSE(c.pinned);
    EXPECT_TRUE(c.set_cookie.empty());
    if (c.version->version == 2) ++v2;
    if (c.version->version == 1 && v1_backends.size() < 4) v1_backends.push_back(c.first_backend);
  }
  EXPECT_EQ(v2, 25);
  EXPECT_EQ(v1_backends, (std::vector<size_t>{0, 1, 2, 0}));
}

TEST_F(ChooseBackendTest, TheClientPinsBySlotHeaderThenQueryThenCookie) {
  Compile();
  BackendChoice header = Choose({"staging", "/", "lastgood-slot=production"});
  EXPECT_EQ(Slot(header), "staging");
  EXPECT_TRUE(header.pinned);
  BackendChoice query = Choose({"", "/a?x=1&lastgood-slot=staging", ""});
  EXPECT_EQ(Slot(query), "staging");
  EXPECT_EQ(query.set_cookie, "staging");  // a query pins for the following requests too
  BackendChoice cookie = Choose({"", "/", "a=b; lastgood-slot=staging"});
  EXPECT_EQ(Slot(cookie), "staging");
  EXPECT_TRUE(cookie.set_cookie.empty());
  EXPECT_EQ(Slot(Choose({"nope", "/", ""})), "production");  // no such slot: not pinned
  // On the staging listener, staging is its own slot: not counted as pinned.
  EXPECT_FALSE(Choose({"staging", "/", ""}, /*preview=*/true).pinned);
}

TEST_F(ChooseBackendTest, ASplitPicksTheSlotOfNewClientsAndPinsThemWithACookie) {
  Compile([](RouteApp& app) { app.split["staging"] = 20; });
  int staging = 0;
  for (int i = 0; i < 100; ++i) {
    BackendChoice c = Choose({});
    EXPECT_EQ(c.set_cookie, Slot(c));
    EXPECT_FALSE(c.pinned);
    staging += Slot(c) == "staging";
  }
  EXPECT_EQ(staging, 20);
  BackendChoice kept = Choose({"", "/", "lastgood-slot=staging"});
  EXPECT_EQ(Slot(kept), "staging");
  EXPECT_FALSE(kept.pinned) << "the split's own cookie is split traffic, not pinned";
  EXPECT_TRUE(kept.set_cookie.empty());
}

TEST_F(ChooseBackendTest, WithPinningOffOnlyTheSplitsCookieForASlotWithAShareCounts) {
  Compile([](RouteApp& app) { app.slotPinning = false; });
  EXPECT_EQ(Slot(Choose({"staging", "/", ""})), "production");
  EXPECT_EQ(Slot(Choose({"", "/?lastgood-slot=staging", ""})), "production");
  EXPECT_EQ(Slot(Choose({"", "/", "lastgood-slot=staging"})), "production");
  Compile([](RouteApp& app) {
    app.slotPinning = false;
    app.split["staging"] = 10;
  });
  EXPECT_EQ(Slot(Choose({"", "/", "lastgood-slot=staging"})), "staging");
  EXPECT_EQ(Slot(Choose({"", "/", "lastgood-slot=production"})), "production");
}

TEST_F(ChooseBackendTest, NoVersionWithWeightAndBackendsIsNoChoice) {
  Compile([](RouteApp& app) { app.slots[0].versions = {V(1, 0, 2), V(2, 100, 0)}; });
  EXPECT_EQ(Choose({}).version, nullptr);
}

}  // namespace
}  // namespace lastgood
