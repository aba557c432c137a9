// End-to-end: `lastgood logs` (DESIGN.md section 5): the output of an app's instances, each
// line prefixed with its instance when more than one is shown, locally and over --server;
// --since knows when a line was written from the controller's samples of the files' sizes
// (docs/behaviour.md, "Logs"); -f follows new output, new instances' too, until interrupted.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <regex>
#include <set>

#include "testutil/lastgood.h"
#include "testutil/remote.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::Lastgood;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::SampleApp;
using lastgood::testutil::WaitUntil;
namespace fs = std::filesystem;

// The instances that prefixed lines of `out` saying "lastgood-sample LABEL listening".
std::set<std::string> Prefixes(const std::string& out, const std::string& label) {
  std::set<std::string> ids;
  std::regex line("(web-production-v[0-9]+-[0-9a-z]+) \\| lastgood-sample " + label + " listening");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator();
       ++it)
    ids.insert((*it)[1]);
  return ids;
}

// Whether every log file of the app has been sampled at its present size.
bool AllSampled(const Lastgood& lg) {
  bool any = false;
  for (const auto& e : fs::directory_iterator(lg.home() + "/logs/web")) {
    std::string path = e.path().string();
    if (path.size() < 4 || path.compare(path.size() - 4, 4, ".log") != 0) continue;
    if (fs::file_size(path) == 0) continue;
    std::error_code ec;
    auto idx = fs::file_size(path + ".idx", ec);
    if (ec || idx < 16) return false;
    any = true;
  }
  return any;
}

TEST(Logs, TwoInstancesArePrefixedAndSinceLeavesOutWhatWasWrittenBefore) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given().App(SampleApp().Replicas(2)).Applied();
  auto instances = lg.Instances();
  ASSERT_EQ(instances.size(), 2u);

  lg.Run({"logs", "web"}).ExitCode(0);
  EXPECT_EQ(Prefixes(lg.last().out, "v1").size(), 2u) << lg.last().out;

  // Over --server, as a deployer: the same lines.
  std::string url = lastgood::testutil::ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  auto remote = lastgood::testutil::Remote(
      lg, url, lastgood::testutil::MakeToken(lg, "ci", "deployer"), {"logs", "web"});
  EXPECT_EQ(remote.code, 0) << remote.Context();
  EXPECT_EQ(Prefixes(remote.out, "v1").size(), 2u) << remote.Context();
  // A viewer does not read what apps print.
  auto viewer = lastgood::testutil::Remote(
      lg, url, lastgood::testutil::MakeToken(lg, "dash", "viewer"), {"logs", "web"});
  EXPECT_EQ(viewer.code, 5) << viewer.Context();

  // One instance alone is not prefixed.
  lg.Run({"logs", "web", "--instance", instances[0].id}).ExitCode(0);
  EXPECT_NE(lg.last().out.find("lastgood-sample v1 listening"), std::string::npos);
  EXPECT_EQ(lg.last().out.find(" | "), std::string::npos) << lg.last().out;

  // Once the controller has seen the lines (it samples the files' sizes every second), a
  // second later they are older than --since 1s, and not older than --since 1h.
  ASSERT_TRUE(WaitUntil([&] { return AllSampled(lg); }, 10s, 50ms)) << "the logs were not sampled";
  std::this_thread::sleep_for(1200ms);  // what is measured here is time passing
  lg.Run({"logs", "web", "--since", "1s"}).ExitCode(0);
  EXPECT_EQ(lg.last().out, "");
  lg.Run({"logs", "web", "--since", "1h"}).ExitCode(0);
  EXPECT_EQ(Prefixes(lg.last().out, "v1").size(), 2u) << lg.last().out;
  lg.Run({"logs", "web", "--since", "soon"}).ExitCode(2).StderrHas("--since soon");
  lg.Run({"logs", "nosuch"}).ExitCode(4);
}

TEST(Logs, FollowPrintsTheOutputOfInstancesStartedAfterItUntilInterrupted) {
  Lastgood lg;
  lg.Given().App(SampleApp().Replicas(2)).Applied();
  ProcessOptions o;
  o.argv = {lastgood::testutil::kLastgoodBinary, "logs", "web", "-f"};
  o.env = {{"LASTGOOD_HOME", lg.home()}};
  o.stdout_path = lg.home() + "/follow.out";
  o.stderr_path = lg.home() + "/follow.err";
  Process follow(o);
  ASSERT_TRUE(
      WaitUntil([&] { return Prefixes(ReadFile(o.stdout_path), "v1").size() == 2; }, 10s, 50ms))
      << ReadFile(o.stdout_path) << ReadFile(o.stderr_path);

  lg.App(SampleApp().Replicas(2).Label("v2")).Applied();
  EXPECT_TRUE(
      WaitUntil([&] { return Prefixes(ReadFile(o.stdout_path), "v2").size() == 2; }, 10s, 50ms))
      << ReadFile(o.stdout_path) << ReadFile(o.stderr_path);
  EXPECT_TRUE(follow.Running()) << "-f ended by itself";
  follow.Kill(SIGINT);
  auto st = follow.Wait(5s);
  EXPECT_TRUE(st.has_value()) << "-f did not end on SIGINT";
}

}  // namespace
