#include "node/node_logs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "api/instance_logs.h"
#include "testutil/temp_dir.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int64_t kNow = 1'700'000'000'000;

class NodeLogsTest : public ::testing::Test {
 protected:
  void Append(const std::string& file, const std::string& text) {
    std::ofstream(dir_ + "/" + file, std::ios::app | std::ios::binary) << text;
  }
  ApiResponse Ask(const std::vector<std::string>& running,
                  std::map<std::string, std::string> query) {
    return NodeLogs(dir_, running, query, kNow);
  }
  // The instances of the answer's chunks.
  static std::set<std::string> Shown(const json& answer) {
    std::set<std::string> out;
    for (const auto& c : answer["chunks"]) out.insert(c["instance"]);
    return out;
  }
  testutil::TempDir tmp_{"lg-node-logs"};
  const std::string dir_ = tmp_.path();
};

TEST(MatchInstanceId, ReadsSlotAndVersionOfFleetAndLocalIdsWithTheAppsSlots) {
  std::string slot;
  int version = 0;
  EXPECT_TRUE(
      MatchInstanceId("web", {"production"}, "web-production-v3-h-1-a1b2", &slot, &version));
  EXPECT_EQ(slot, "production");
  EXPECT_EQ(version, 3);
  EXPECT_TRUE(
      MatchInstanceId("web", {"blue", "blue-green"}, "web-blue-green-v12-a1b2", &slot, &version));
  EXPECT_EQ(slot, "blue-green");
  EXPECT_EQ(version, 12);
  // Another app whose name begins like this one's, or no version, or nothing after it.
  EXPECT_FALSE(
      MatchInstanceId("web", {"production"}, "web-api-production-v1-h1-a1b2", &slot, &version));
  EXPECT_FALSE(MatchInstanceId("web", {"production"}, "web-production-vx-a1b2", &slot, &version));
  EXPECT_FALSE(MatchInstanceId("web", {"production"}, "web-production-v1-", &slot, &version));
  EXPECT_FALSE(MatchInstanceId("web", {}, "web-production-v1-a1b2", &slot, &version));
}

TEST_F(NodeLogsTest, OnlyTheNamedAppsInstancesAreReadAmongEveryAppsFilesOnTheHost) {
  Append("web-production-v1-h1-aaaa.out.log", "web prod\n");
  Append("web-staging-v2-h1-bbbb.err.log", "web staging err\n");
  Append("web-staging-v2-h1-bbbb.out.log", "");
  Append("web-api-production-v1-h1-cccc.out.log", "another app\n");
  Append("node.log", "the node's own log\n");
  auto r =
      Ask({"web-production-v1-h1-aaaa", "web-staging-v2-h1-bbbb", "web-api-production-v1-h1-cccc"},
          {{"app", "web"}, {"slots", "production,staging"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json a = json::parse(r.body);
  EXPECT_EQ(Shown(a),
            (std::set<std::string>{"web-production-v1-h1-aaaa", "web-staging-v2-h1-bbbb"}));
  for (const auto& c : a["chunks"]) {
    if (c["instance"] == "web-staging-v2-h1-bbbb") {
      EXPECT_EQ(c["stream"], "err");
      EXPECT_EQ(c["text"], "web staging err\n");
    }
  }
  // The slot filter, and the cursor: asked again from it, nothing is repeated.
  auto only = Ask({"web-production-v1-h1-aaaa", "web-staging-v2-h1-bbbb"},
                  {{"app", "web"}, {"slots", "production,staging"}, {"slot", "staging"}});
  EXPECT_EQ(Shown(json::parse(only.body)), std::set<std::string>{"web-staging-v2-h1-bbbb"});
  auto again = Ask({"web-production-v1-h1-aaaa"},
                   {{"app", "web"}, {"slots", "production"}, {"cursor", a["cursor"]}});
  EXPECT_TRUE(json::parse(again.body)["chunks"].empty()) << again.body;
}

TEST_F(NodeLogsTest, AStoppedInstancesOutputIsFoundByItsVersionOrId) {
  Append("web-production-v1-h1-dddd.out.log", "before the rollback\n");
  auto running = Ask({}, {{"app", "web"}, {"slots", "production"}});
  EXPECT_TRUE(json::parse(running.body)["chunks"].empty()) << running.body;
  auto by_version = Ask({}, {{"app", "web"}, {"slots", "production"}, {"version", "1"}});
  EXPECT_EQ(Shown(json::parse(by_version.body)),
            std::set<std::string>{"web-production-v1-h1-dddd"});
  auto by_id =
      Ask({}, {{"app", "web"}, {"slots", "production"}, {"instance", "web-production-v1-h1-dddd"}});
  EXPECT_EQ(Shown(json::parse(by_id.body)), std::set<std::string>{"web-production-v1-h1-dddd"});
}

TEST_F(NodeLogsTest, BinaryOutputAndAHugeLineGiveValidJsonWithinTheBudget) {
  std::string binary = "ok\n";
  binary += std::string("\x00\xff\xfe\x1b[31m\xc3\x28 bytes\n", 17);
  Append("web-production-v1-h1-aaaa.out.log", binary);
  Append("web-production-v1-h1-aaaa.err.log", std::string(3 << 20, 'x'));  // no newline
  auto r = Ask({"web-production-v1-h1-aaaa"},
               {{"app", "web"}, {"slots", "production"}, {"max", std::to_string(128 << 10)}});
  ASSERT_EQ(r.status, 200);
  json a = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(a.is_discarded()) << "the answer is not JSON";
  size_t bytes = 0;
  bool binary_shown = false;
  for (const auto& c : a["chunks"]) {
    std::string text = c["text"];
    bytes += text.size();
    if (c["stream"] == "out") binary_shown = text.find(" bytes\n") != std::string::npos;
  }
  EXPECT_TRUE(binary_shown) << r.body.substr(0, 300);
  EXPECT_LE(bytes, (128u << 10) * 3) << "U+FFFD takes 3 bytes where 1 was";
  EXPECT_TRUE(a["more"]) << "the rest of the long line is for the next read";
}

TEST_F(NodeLogsTest, AQueryWithoutAppOrSlotsOrWithABadFieldIsRefusedNamingIt) {
  auto field = [](const ApiResponse& r) { return json::parse(r.body)["error"].value("field", ""); };
  auto no_app = Ask({}, {{"slots", "production"}});
  EXPECT_EQ(no_app.status, 400);
  EXPECT_EQ(field(no_app), "app");
  auto bad_app = Ask({}, {{"app", "../etc"}, {"slots", "production"}});
  EXPECT_EQ(bad_app.status, 400);
  auto no_slots = Ask({}, {{"app", "web"}});
  EXPECT_EQ(field(no_slots), "slots");
  auto bad_slot = Ask({}, {{"app", "web"}, {"slots", "production,../x"}});
  EXPECT_EQ(field(bad_slot), "slots");
  auto tail = Ask({}, {{"app", "web"}, {"slots", "production"}, {"tail", "0"}});
  EXPECT_EQ(field(tail), "tail");
  auto small = Ask({}, {{"app", "web"}, {"slots", "production"}, {"max", "1"}});
  EXPECT_EQ(field(small), "max");
  auto cursor = Ask({}, {{"app", "web"}, {"slots", "production"}, {"cursor", "x:y"}});
  EXPECT_EQ(field(cursor), "cursor");
  // Names that would leave the logs folder, or smuggle another parameter, are not names.
  auto escape = Ask({}, {{"app", "web"}, {"slots", "production"}, {"instance", "../node-state"}});
  EXPECT_EQ(field(escape), "instance");
  auto smuggled = Ask({}, {{"app", "web&app=other"}, {"slots", "production"}});
  EXPECT_EQ(smuggled.status, 400);
}

}  // namespace
}  // namespace lastgood
