#include "api/app_logs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "api/instance_logs.h"
#include "testutil/temp_dir.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Fleet hosts whose nodes answer what the test says; a host in `cut` cannot be asked.
class FakeHostLogs : public HostLogs {
 public:
  bool Registered(const std::string& host) override { return registered.count(host) > 0; }
  Result<json> Read(const std::string& host, const std::string& query) override {
    asked.push_back(host + "?" + query);
    if (cut.count(host)) return Error::Unavailable("host " + host + " is unreachable: cut");
    return answers.at(host);
  }
  std::set<std::string> registered, cut;
  std::map<std::string, json> answers;
  std::vector<std::string> asked;
};

// A node's answer: one chunk of `instance`'s stdout, read up to `offset`.
json NodeAnswer(const std::string& instance, const std::string& text, uint64_t offset) {
  return {{"app", "web"},
          {"instances", {instance}},
          {"chunks", {{{"instance", instance}, {"stream", "out"}, {"text", text}}}},
          {"cursor", FormatLogCursor({{LogFile{instance, "out", ""}.key(), offset}})},
          {"more", false}};
}

InstanceRecord On(const std::string& host, const std::string& id) {
  InstanceRecord r;
  r.id = id;
  r.app = "web";
  r.slot = "production";
  r.version = 1;
  r.host = host;
  return r;
}

class AppLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ + "/web");
    std::ofstream(root_ + "/web/web-production-v1-aaaa.out.log") << "here\n";
    hosts_.registered = {"h1", "h2", "h3"};
    hosts_.answers["h1"] = NodeAnswer("web-production-v1-h1-bbbb", "on h1\n", 6);
    hosts_.answers["h2"] = NodeAnswer("web-production-v1-h2-cccc", "on h2\n", 6);
  }
  AppLogsRequest Request(const std::string& host = "") const {
    AppLogsRequest r;
    r.app = "web";
    r.host = host;
    r.logsRoot = root_;
    r.instances = {On("", "web-production-v1-aaaa"), On("h1", "web-production-v1-h1-bbbb"),
                   On("h2", "web-production-v1-h2-cccc")};
    r.slots = {"production", "staging"};
    return r;
  }
  // host → the texts of its chunks ("" for this machine's).
  static std::map<std::string, std::string> TextByHost(const json& answer) {
    std::map<std::string, std::string> out;
    for (const auto& c : answer["chunks"]) out[c.value("host", "")] += c["text"].get<std::string>();
    return out;
  }
  testutil::TempDir dir_{"lg-app-logs"};
  const std::string root_ = dir_.path();
  FakeHostLogs hosts_;
};

TEST_F(AppLogsTest, EveryHostRunningTheAppIsAskedBesideThisMachineEachWithItsShare) {
  auto a = ReadAppLogs(Request(), &hosts_);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(TextByHost(*a), (std::map<std::string, std::string>{
                                {"", "here\n"}, {"h1", "on h1\n"}, {"h2", "on h2\n"}}));
  EXPECT_EQ((*a)["instances"].size(), 3u);
  EXPECT_TRUE((*a)["unreachable"].empty());
  // h3 runs nothing of the app: not asked. Each host gets a third of the budget, the app and
  // its slots.
  ASSERT_EQ(hosts_.asked.size(), 2u);
  for (const auto& q : hosts_.asked) {
    EXPECT_NE(q.find("max=" + std::to_string(kMaxLogReadBytes / 3)), std::string::npos) << q;
    EXPECT_NE(q.find("&app=web&slots=production,staging"), std::string::npos) << q;
  }
  // One cursor for all three files: asked again from it, each host gets it whole.
  auto cursor = ParseLogCursor((*a)["cursor"]);
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->size(), 3u);
  AppLogsRequest again = Request();
  again.query.cursor = *cursor;
  hosts_.asked.clear();
  ASSERT_TRUE(ReadAppLogs(again, &hosts_).ok());
  EXPECT_NE(hosts_.asked[0].find("cursor=" + (*a)["cursor"].get<std::string>()), std::string::npos)
      << hosts_.asked[0];
}

TEST_F(AppLogsTest, AHostThatCannotBeAskedIsNamedTheOthersAnswerAndItsFilesKeepTheirPlace) {
  hosts_.cut = {"h2"};
  hosts_.answers["h1"]["chunks"] = json::array();
  AppLogsRequest r = Request();
  const std::string h2_file = LogFile{"web-production-v1-h2-cccc", "out", ""}.key();
  r.query.cursor = {{h2_file, 40}};
  auto a = ReadAppLogs(r, &hosts_);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ((*a)["unreachable"].size(), 1u);
  EXPECT_EQ((*a)["unreachable"][0]["host"], "h2");
  EXPECT_EQ((*a)["unreachable"][0]["problem"], "host h2 is unreachable: cut");
  EXPECT_EQ(TextByHost(*a).count("h2"), 0u);
  auto cursor = ParseLogCursor((*a)["cursor"]);
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->at(h2_file), 40u) << "-f would read h2's file again from its start";
  // A node that answers something else than logs counts as one that could not be asked.
  hosts_.cut.clear();
  hosts_.answers["h2"] = {{"error", "?"}};
  auto odd = ReadAppLogs(Request(), &hosts_);
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ((*odd)["unreachable"].size(), 1u);
  EXPECT_EQ((*odd)["unreachable"][0]["problem"], "host h2 answered logs without chunks");
}

TEST_F(AppLogsTest, OneHostAloneAndTheHostsItCannotBeAreRefusedNamingThem) {
  auto h1 = ReadAppLogs(Request("h1"), &hosts_);
  ASSERT_TRUE(h1.ok()) << h1.error().message;
  EXPECT_EQ(TextByHost(*h1), (std::map<std::string, std::string>{{"h1", "on h1\n"}}));
  ASSERT_EQ(hosts_.asked.size(), 1u);
  EXPECT_NE(hosts_.asked[0].find("max=" + std::to_string(kMaxLogReadBytes)), std::string::npos);

  auto unknown = ReadAppLogs(Request("h9"), &hosts_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().message, "no fleet host named h9 (lastgood hosts lists them)");
  auto idle = ReadAppLogs(Request("h3"), &hosts_);
  ASSERT_FALSE(idle.ok());
  EXPECT_EQ(idle.error().code, ErrorCode::kNotFound);
  EXPECT_NE(idle.error().message.find("web runs no instance on host h3 (it runs on h1, h2)"),
            std::string::npos)
      << idle.error().message;
  // The output of a version that ran there stays on the host: asked.
  hosts_.answers["h3"] = NodeAnswer("web-production-v1-h3-dddd", "before\n", 7);
  AppLogsRequest stopped = Request("h3");
  stopped.query.filter.version = 1;
  auto old = ReadAppLogs(stopped, &hosts_);
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(TextByHost(*old)["h3"], "before\n");

  hosts_.cut = {"h2"};
  auto cut = ReadAppLogs(Request("h2"), &hosts_);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(cut.error().message, "host h2 is unreachable: cut");
  // Without a fleet, no host is known.
  EXPECT_EQ(ReadAppLogs(Request("h1"), nullptr).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace lastgood
