// Issue 4 end to end: canary with analysis on live traffic, swap with its phases and sticky
// settings, traffic shares, pause / resume / abort, and hooks — through the CLI, the real
// controller and router, under a steady load that records which version answered what.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "testutil/lastgood.h"
#include "testutil/load.h"

namespace lastgood::testutil {
namespace {

using namespace std::chrono_literals;

std::string Route(int port, int preview = 0) {
  std::string r = "route:\n  listen: 127.0.0.1:" + std::to_string(port);
  if (preview) r += "\n  preview: 127.0.0.1:" + std::to_string(preview);
  return r;
}

// Two weight steps, each followed by an analysis of `window` that needs `min` requests and
// allows 1% errors.
std::string CanarySteps(const std::string& window = "2s", int min = 20) {
  std::string a = "      - analysis: { window: " + window +
                  ", minRequests: " + std::to_string(min) + ", maxErrorRate: 0.01 }";
  return "  canary:\n    steps:\n      - weight: 20\n" + a + "\n      - weight: 50\n" + a;
}

// The body's first line (the label) and the value of GET /env/NAME through `port`.
std::string Env(int port, const std::string& name) {
  auto r = HttpGet("127.0.0.1", port, "/env/" + name);
  if (!r.ok() || r.status != 200) return "(status " + std::to_string(r.status) + r.error + ")";
  return r.body.substr(0, r.body.find('\n'));
}

void WaitForTraffic(const SteadyLoad& load) {
  ASSERT_TRUE(WaitUntil([&] { return load.Served() > 50; }, 10s, 20ms)) << "no traffic";
}

TEST(Canary, GoodCanaryTakesItsSharesIsAnalysedAndCompletesWithNoFailedRequest) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given()
      .App(SampleApp().Strategy("canary").StrategyYaml(CanarySteps()).Extra(Route(port)))
      .Applied();
  SteadyLoad load({.port = port, .threads = 4, .rate = 200});
  WaitForTraffic(load);

  lg.When().Apply({"--param", "label=v2", "--no-wait"}).Then().ExitCode(0);
  lg.WaitForStep("analyse canary");
  auto s = lg.Status();
  const auto& prod = s["slots"]["production"];
  EXPECT_EQ(prod["version"], 1) << s.dump(2);
  EXPECT_EQ(prod["canary"], (nlohmann::json{{"version", 2}, {"weight", 20}})) << s.dump(2);
  EXPECT_EQ(s["analysis"]["active"], true) << s.dump(2);
  EXPECT_EQ(s["analysis"]["limits"]["maxErrorRate"], 0.01) << s.dump(2);
  EXPECT_EQ(s["analysis"]["windowMs"], 2000) << s.dump(2);
  lg.WaitForIdle(30s);
  LoadReport r = load.Stop();

  lg.Then().Serves("v2").Verdict(2, "good");
  EXPECT_EQ(lg.History()[0].value("state", ""), "Succeeded") << lg.History().dump(2);
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_GT(r.per_label["v1"], 0u) << r.Summary();
  EXPECT_GT(r.per_label["v2"], 0u) << r.Summary();
  // Both versions answered while the canary ran: between v2's first and v1's last request.
  auto v2_first = r.FirstStartOf("v2"), v1_last = r.LastStartOf("v1");
  ASSERT_TRUE(v2_first && v1_last) << r.Summary();
  EXPECT_LT(*v2_first, *v1_last) << "the canary never shared traffic with stable";
  auto d = lg.Deployment(lg.History()[0]["name"]);
  std::string analyses;
  for (const auto& op : d["operations"]) {
    if (op["step"].get<std::string>().find("analyse") != std::string::npos)
      analyses += op["state"].get<std::string>() + ": " + op["detail"].get<std::string>() + "\n";
  }
  EXPECT_NE(analyses.find("Succeeded: passed"), std::string::npos) << d.dump(2);
}

TEST(Canary, CanaryFailingOneRequestInTwentyIsRolledBackAndOnlyItsShareFailed) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given()
      .App(SampleApp().Strategy("canary").StrategyYaml(CanarySteps("3s", 40)).Extra(Route(port)))
      .Applied();
  SteadyLoad load({.port = port, .threads = 4, .rate = 300});
  WaitForTraffic(load);

  lg.When().Apply({"--param", "label=v2", "--param", "failRate=0.05"});
  lg.Then().ExitCode(1).Verdict(2, "bad");
  lg.WaitForIdle(20s);
  // Traffic goes back to v1 alone, and stays there.
  auto after = LoadClock::now();
  std::this_thread::sleep_for(500ms);
  LoadReport r = load.Stop();

  lg.Then().Serves("v1");
  auto h = lg.History();
  ASSERT_GE(h.size(), 3u) << h.dump(2);
  EXPECT_EQ(h[1].value("state", ""), "Failed") << h.dump(2);
  EXPECT_NE(h[1].value("reason", "").find("analysis failed"), std::string::npos) << h.dump(2);
  EXPECT_EQ(h[0].value("trigger", ""), "auto") << h.dump(2);
  EXPECT_EQ(h[0].value("state", ""), "Succeeded") << h.dump(2);
  // Every failed request was the canary's own: v1 answered all of its requests.
  size_t failed_v1 = 0, failed_other = 0, v2_all = 0;
  for (const auto& q : r.requests) {
    if (q.label == "v2") ++v2_all;
    if (!q.failed() || q.label == "v2") continue;
    ++(q.label == "v1" ? failed_v1 : failed_other);
  }
  EXPECT_EQ(failed_v1, 0u) << r.Summary();
  EXPECT_EQ(failed_other, 0u) << "failures with no version's answer: " << r.Summary();
  EXPECT_GT(r.failed, 0u) << "the canary failed no request: " << r.Summary();
  EXPECT_LT(r.failed, v2_all / 5 + 5) << r.Summary();
  EXPECT_EQ(r.ServedBySince("v2", after), 0u) << r.Summary();
}

TEST(Swap, PreviewCancelCompleteAndSwapBackKeepStickySettingsWithTheirSlotsUnderLoad) {
  const int port = FreePort(), preview = FreePort();
  Lastgood lg;
  auto app = SampleApp()
                 .Param("region", "prod")
                 .Env("REGION: { value: \"${params.region}\", sticky: true }")
                 .Extra(Route(port, preview));
  lg.Given().App(app).Applied();
  lg.When().Apply({"--param", "label=v2", "--param", "region=stage", "--slot", "staging"});
  lg.Then().ExitCode(0);
  ASSERT_EQ(Env(preview, "REGION"), "stage");
  SteadyLoad load({.port = port, .threads = 4, .rate = 200});
  WaitForTraffic(load);

  lg.When().Run({"swap", "web", "--preview"}).Then().ExitCode(0);
  auto s = lg.Status();
  EXPECT_EQ(s["slots"]["production"]["swapPending"]["source"], "staging") << s.dump(2);
  EXPECT_EQ(Env(preview, "REGION"), "prod") << "phase 1 gives staging production's settings";
  EXPECT_EQ(Lastgood::Label(port), "v1");
  lg.When().Run({"swap", "web", "--cancel"}).Then().ExitCode(0);
  EXPECT_EQ(Env(preview, "REGION"), "stage");
  EXPECT_TRUE(lg.Status()["slots"]["production"]["swapPending"].is_null());

  lg.When().Run({"swap", "web", "--preview"}).Then().ExitCode(0);
  lg.When().Run({"swap", "web", "--complete"}).Then().ExitCode(0).OutputHas("Succeeded");
  EXPECT_EQ(Lastgood::Label(port), "v2");
  EXPECT_EQ(Env(port, "REGION"), "prod");
  EXPECT_EQ(Lastgood::Label(preview), "v1");
  EXPECT_EQ(Env(preview, "REGION"), "stage");

  lg.When().Run({"swap", "web"}).Then().ExitCode(0);
  LoadReport r = load.Stop();
  EXPECT_EQ(Lastgood::Label(port), "v1");
  EXPECT_EQ(Env(port, "REGION"), "prod");
  EXPECT_EQ(lg.History()[0].value("kind", ""), "rollback") << "swapping back is a rollback";
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_GT(r.per_label["v2"], 0u) << r.Summary();
}

TEST(Traffic, ASlotsShareOfNewClientsIsKeptAndEachClientStaysOnItsSlot) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given().App(SampleApp().Extra(Route(port))).Applied();
  lg.When().Apply({"--param", "label=v2", "--slot", "staging"}).Then().ExitCode(0);

  lg.When().Run({"traffic", "web", "staging=30"}).Then().ExitCode(0).OutputHas("staging 30%");
  EXPECT_EQ(lg.Status()["slots"]["staging"]["weight"], 30);
  HttpConnection c;
  ASSERT_EQ(c.Connect("127.0.0.1", port), "");
  const std::string request = "GET / HTTP/1.1\r\nHost: " + c.host_header() + "\r\n\r\n";
  int staging = 0, cookie_staging = 0;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(c.Send(request), "");
    auto r = c.ReadResponse();
    ASSERT_TRUE(r.ok() && r.status == 200) << r.error;
    if (r.body.rfind("v2", 0) == 0) {
      ++staging;
      if (r.Header("Set-Cookie").find("lastgood-slot=staging") != std::string::npos)
        ++cookie_staging;
    }
  }
  EXPECT_GE(staging, 540);  // 27%..33% of 2000 new clients
  EXPECT_LE(staging, 660);
  EXPECT_EQ(cookie_staging, staging) << "every client sent to staging is pinned to it";
  for (int i = 0; i < 50; ++i) {
    auto r = HttpGet("127.0.0.1", port, "/", {{"Cookie", "lastgood-slot=staging"}});
    ASSERT_EQ(r.body.substr(0, 2), "v2") << "a pinned client left its slot";
  }

  lg.When().Run({"traffic", "web", "staging=0"}).Then().ExitCode(0);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Lastgood::Label(port), "v1");
  // Refused, changing nothing: production's share, a slot that runs nothing, a bad share.
  lg.When().Run({"traffic", "web", "production=10"}).Then().ExitCode(2);
  lg.When().Run({"traffic", "web", "blue=10"}).Then().ExitCode(4);
  lg.When().Run({"traffic", "web", "staging=101"}).Then().ExitCode(2);
  lg.When().Run({"traffic", "web", "staging"}).Then().ExitCode(2).StderrHas("SLOT=PERCENT");
  EXPECT_EQ(lg.Status()["slots"]["staging"]["weight"], 0);
}

TEST(Control, PauseHoldsResumeGoesOnAndAbortRollsBackAndMarksTheVersionBad) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given()
      .App(SampleApp()
               .Strategy("canary")
               .StrategyYaml("  canary:\n    steps:\n      - weight: 20\n      - pause: 2s\n"
                             "      - weight: 50\n      - pause: untilResumed")
               .Extra(Route(port)))
      .Applied();
  lg.When().Run({"pause", "web"}).Then().ExitCode(3).StderrHas("no deployment");

  // The user's pause holds the deployment at the next step boundary, until resume.
  lg.When().Apply({"--param", "label=v2", "--no-wait"}).Then().ExitCode(0);
  lg.WaitForStep("pause for");
  lg.When().Run({"pause", "web"}).Then().ExitCode(0).OutputHas("pauses before its next step");
  std::this_thread::sleep_for(3500ms);
  auto s = lg.Status();
  ASSERT_TRUE(s["deployment"].is_object()) << "the user's pause did not hold: " << s.dump(2);
  EXPECT_NE(s["deployment"]["detail"].get<std::string>().find("paused by the user"),
            std::string::npos)
      << s.dump(2);
  EXPECT_EQ(s["slots"]["production"]["canary"]["weight"], 20) << s.dump(2);
  lg.When().Run({"resume", "web"}).Then().ExitCode(0);
  // A step that waits for resume.
  lg.WaitForStep("pause until");
  EXPECT_EQ(lg.Status()["slots"]["production"]["canary"]["weight"], 50);
  lg.When().Run({"resume", "web"}).Then().ExitCode(0);
  lg.WaitForIdle(20s);
  lg.Then().Serves("v2");

  // Resume answers a pause only; it ends a timed pause early.
  lg.When()
      .Apply({"--param", "label=v3", "--param", "startupMs=1500", "--no-wait"})
      .Then()
      .ExitCode(0);
  lg.WaitForStep("ready instance");
  lg.When().Run({"resume", "web"}).Then().ExitCode(3).StderrHas("is not paused");
  lg.WaitForStep("pause for");
  lg.When().Run({"resume", "web"}).Then().ExitCode(0);
  lg.WaitForStep("pause until");
  std::string timed_pause;
  auto record = lg.Deployment(lg.History()[0]["name"]);
  for (const auto& op : record["operations"]) {
    if (op["step"] == "pause for 2s") timed_pause = op["detail"];
  }
  EXPECT_NE(timed_pause.find("resumed by the user after"), std::string::npos) << timed_pause;

  // Abort: traffic back to the last good version at once, the version marked bad.
  lg.When().Run({"abort", "web"}).Then().ExitCode(0).OutputHas("aborted");
  lg.WaitForIdle(20s);
  lg.Then().Serves("v2").Verdict(3, "bad");
  auto h = lg.History();
  EXPECT_EQ(h[1].value("state", ""), "RolledBack") << h.dump(2);
  EXPECT_NE(h[1].value("reason", "").find("aborted by"), std::string::npos) << h.dump(2);
  EXPECT_EQ(h[0].value("kind", ""), "rollback") << h.dump(2);
  EXPECT_EQ(h[0].value("state", ""), "Succeeded") << "the abort must not carry over to the "
                                                     "rollback that follows it: "
                                                  << h.dump(2);
}

// A bluegreen manifest whose smoke test runs `smoke` (a shell line: the test's own command).
SampleApp BlueGreen(int port, int preview, const std::string& smoke) {
  return SampleApp()
      .Strategy("bluegreen")
      .Extra(Route(port, preview))
      .StrategyYaml("  bluegreen:\n    smokeTest: { command: [\"/bin/sh\", \"-c\", \"" + smoke +
                    "\"], timeout: 5s }");
}

TEST(BlueGreen, NewVersionIsSmokeTestedInStagingSwitchedUnderLoadAndRolledBackByASwapBack) {
  const int port = FreePort(), preview = FreePort();
  Lastgood lg;
  // The smoke test reaches the new version through the preview route it is given.
  lg.Given()
      .App(BlueGreen(port, preview, "curl -fsS $LASTGOOD_PREVIEW_URL/ | grep -q ^v2"))
      .Applied();
  SteadyLoad load({.port = port, .threads = 4, .rate = 200});
  WaitForTraffic(load);

  lg.When().Apply({"--param", "label=v2"}).Then().ExitCode(0);
  EXPECT_EQ(Lastgood::Label(port), "v2");
  EXPECT_EQ(Lastgood::Label(preview), "v1") << "the previous version stays warm in staging";
  EXPECT_EQ(lg.History()[0].value("strategy", ""), "bluegreen") << lg.History().dump(2);
  lg.When().Run({"rollback", "web"}).Then().ExitCode(0);
  EXPECT_EQ(Lastgood::Label(port), "v1");
  EXPECT_NE(lg.Deployment(lg.History()[0]["name"]).dump().find("switch"), std::string::npos)
      << "a rollback to the warm previous version is a swap back";

  // A failing smoke test stops the release before the switch.
  lg.Given().App(BlueGreen(port, preview, "exit 3"));
  lg.When().Apply({"--param", "label=v3"}).Then().ExitCode(1);
  lg.WaitForIdle();
  LoadReport r = load.Stop();
  EXPECT_EQ(Lastgood::Label(port), "v1");
  EXPECT_NE(lg.History().dump().find("smoke"), std::string::npos) << lg.History().dump(2);
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_EQ(r.per_label["v3"], 0u) << "v3 reached production although its smoke test failed";
  EXPECT_GT(r.per_label["v2"], 0u) << r.Summary();
}

TEST(Hooks, FailingPreDeployHookFailsTheDeploymentBeforeAnyTrafficMoves) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given().App(SampleApp().Strategy("canary").StrategyYaml(CanarySteps()).Extra(Route(port)));
  lg.Applied();
  SteadyLoad load({.port = port, .threads = 2, .rate = 100});
  WaitForTraffic(load);

  lg.Given().App(SampleApp()
                     .Strategy("canary")
                     .StrategyYaml(CanarySteps())
                     .Extra(Route(port))
                     .Extra("hooks:\n  preDeploy: { command: [\"/bin/false\"], timeout: 5s }"));
  lg.When().Apply({"--param", "label=v2"});
  lg.Then().ExitCode(1);
  lg.WaitForIdle();
  LoadReport r = load.Stop();

  lg.Then().Serves("v1");
  auto h = lg.History();
  ASSERT_GE(h.size(), 2u) << h.dump(2);
  EXPECT_NE(h.dump().find("preDeploy"), std::string::npos) << h.dump(2);
  EXPECT_EQ(r.failed, 0u) << r.Summary();
  EXPECT_EQ(r.per_label["v2"], 0u) << "v2 served traffic although its preDeploy failed";
}

}  // namespace
}  // namespace lastgood::testutil
