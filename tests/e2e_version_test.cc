// End-to-end: what a lastgood binary says it is (issue 15 §1): `--version`, `version -o json`,
// the controller's /v1/health, and the warning of a CLI that talks to a controller of another
// build.
#include <gtest/gtest.h>

#include <regex>

#include "testutil/lastgood.h"
#include "testutil/other_build.h"
#include "testutil/remote.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::HttpGet;
using lastgood::testutil::Lastgood;
using lastgood::testutil::MakeToken;
using lastgood::testutil::OtherBuild;
using lastgood::testutil::PortOf;
using lastgood::testutil::ReadFile;
using lastgood::testutil::Remote;
using lastgood::testutil::SampleApp;
using lastgood::testutil::ServedUrl;

std::string VersionFile() {
  std::string v = ReadFile(LASTGOOD_SOURCE_DIR "/VERSION");
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

TEST(Version, TheBinarySaysItsVersionCommitAndBuildIdInTextAndJson) {
  Lastgood lg;
  lg.Run({"--version"}).ExitCode(0);
  std::string text = lg.last().out;
  EXPECT_TRUE(std::regex_search(
      text, std::regex("^lastgood " + VersionFile() +
                       " \\(commit ([0-9a-f]{12}|unknown), build [0-9a-f]{12}\\)\n$")))
      << text;

  auto j = lg.Json({"version"});
  ASSERT_TRUE(j.is_object()) << lg.last().out;
  EXPECT_EQ(j.size(), 3u) << j.dump();
  EXPECT_EQ(j.value("version", ""), VersionFile());
  std::string build = j.value("buildId", "");
  EXPECT_TRUE(std::regex_match(build, std::regex("[0-9a-f]{40}"))) << build;
  EXPECT_NE(text.find(build.substr(0, 12)), std::string::npos) << "the same build id in both";
  std::string commit = j.value("commit", "");
  EXPECT_TRUE(commit.empty() || std::regex_match(commit, std::regex("[0-9a-f]{40}"))) << commit;
}

TEST(Version, HealthCarriesTheControllersVersionAndEveryAnswerItsBuildId) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given();
  auto mine = lg.Json({"version"});
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string viewer = MakeToken(lg, "dash", "viewer");
  auto r = HttpGet("127.0.0.1", PortOf(url), "/v1/health", {{"Authorization", "Bearer " + viewer}});
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  auto health = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_TRUE(health.is_object()) << r.body;
  EXPECT_EQ(health["version"], mine) << r.body;
  EXPECT_EQ(r.Header("Lastgood-Build-Id"), mine.value("buildId", ""));
}

TEST(Version, ACliOfAnotherBuildWarnsOnceThatTheControllerIsNotItsBuild) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given().App(SampleApp().Label("v1")).Applied();
  std::string build = lg.Json({"version"}).value("buildId", "");
  std::string other = OtherBuild(lg.home(), build);
  ASSERT_FALSE(other.empty()) << "the build id's bytes are not in the binary";

  // The same build says nothing.
  std::string url = ServedUrl(lg);
  std::string token = MakeToken(lg, "ci", "viewer");
  auto same = Remote(lg, url, token, {"status", "web"});
  EXPECT_EQ(same.code, 0) << same.Context();
  EXPECT_EQ(same.err.find("warning"), std::string::npos) << same.Context();

  // Another build warns, once (the warning itself asks /v1/health for the controller's
  // version, a second answer with the other build id), and the verb still works.
  auto run = Remote(lg, url, token, {"history", "web"}, "", 30s, other);
  EXPECT_EQ(run.code, 0) << run.Context();
  size_t first = run.err.find("warning: the controller at " + url + " is lastgood " +
                              VersionFile() + " (commit ");
  EXPECT_NE(first, std::string::npos) << run.Context();
  EXPECT_NE(run.err.find(", build " + build.substr(0, 12) + "), not this lastgood"),
            std::string::npos)
      << run.Context();
  EXPECT_EQ(run.err.find("warning", first + 1), std::string::npos)
      << "warned twice" << run.Context();

  // With -o json the warning is a JSON line, and stdout stays the answer alone.
  auto json = Remote(lg, url, token, {"status", "web", "-o", "json"}, "", 30s, other);
  EXPECT_EQ(json.code, 0) << json.Context();
  auto w = nlohmann::json::parse(json.err, nullptr, false);
  ASSERT_TRUE(w.is_object()) << json.Context();
  EXPECT_EQ(w["warning"].value("code", ""), "other_build") << json.Context();
  EXPECT_TRUE(nlohmann::json::parse(json.out, nullptr, false).is_object()) << json.Context();
}

}  // namespace
