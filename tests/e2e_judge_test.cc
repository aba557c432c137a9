// Issue 16 end to end: the sequential judge through the CLI, the real controller, router and
// sample app, under a steady load — a good canary beside a stable that itself fails passes; a
// bad one is rolled back within about a second with the evidence in the record; a canary the
// judge cannot tell apart within the limit fails as undecided; --what-if says how long a good
// canary should take.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "testutil/lastgood.h"
#include "testutil/load.h"

namespace lastgood::testutil {
namespace {

using namespace std::chrono_literals;

std::string RouteAt(int port) { return "route:\n  listen: 127.0.0.1:" + std::to_string(port); }

// One weight step, then a sequential analysis with the given tolerance.
std::string JudgedSteps(int weight, const std::string& tolerance, const std::string& window) {
  return "  canary:\n    steps:\n      - weight: " + std::to_string(weight) +
         "\n      - analysis: { judge: sequential, falseAlarmRate: 0.001, window: " + window +
         ", tolerance: { errorRate: " + tolerance + " } }";
}

// The detail of the deployment's analysis step, and how long it took.
std::pair<std::string, int64_t> AnalysisOf(Lastgood& lg, const nlohmann::json& record) {
  auto d = lg.Deployment(record["name"]);
  for (const auto& op : d["operations"]) {
    if (op["step"].get<std::string>().find("analyse") != std::string::npos)
      return {op["detail"].get<std::string>(), op["durationMs"].get<int64_t>()};
  }
  return {"(no analysis step in " + d.dump(2) + ")", -1};
}

TEST(SequentialJudge, AGoodCanaryBesideAStableFailingTwoPercentPasses) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given()
      .App(SampleApp()
               .FailRate("0.02")
               .Strategy("canary")
               .StrategyYaml(JudgedSteps(50, "0.03", "30s"))
               .Extra(RouteAt(port)))
      .Applied();
  SteadyLoad load({.port = port, .threads = 4, .rate = 500});
  ASSERT_TRUE(WaitUntil([&] { return load.Served() > 50; }, 10s, 20ms)) << "no traffic";

  lg.When().Apply({"--param", "label=v2", "--no-wait"}).Then().ExitCode(0);
  lg.WaitForStep("analyse canary");
  auto s = lg.Status();
  EXPECT_EQ(s["analysis"]["judge"], "sequential") << s.dump(2);
  EXPECT_EQ(s["analysis"]["sequential"]["tolerance"]["errorRate"], 0.03) << s.dump(2);
  lg.WaitForIdle(60s);
  load.Stop();

  lg.Then().Serves("v2").Verdict(2, "good");
  auto h = lg.History();
  EXPECT_EQ(h[0].value("state", ""), "Succeeded") << h.dump(2);
  auto [detail, ms] = AnalysisOf(lg, h[0]);
  EXPECT_NE(detail.find("passed: canary "), std::string::npos) << detail;
  EXPECT_NE(detail.find("within the 3-point tolerance with 99.9% confidence"), std::string::npos)
      << detail;
}

TEST(SequentialJudge, ACanaryFailingTenPercentBesideOnePercentIsRolledBackQuicklyWithEvidence) {
  const int port = FreePort();
  Lastgood lg;
  lg.Given()
      .App(SampleApp()
               .FailRate("0.01")
               .Strategy("canary")
               .StrategyYaml(JudgedSteps(20, "0.02", "30s"))
               .Extra(RouteAt(port)))
      .Applied();
  SteadyLoad load({.port = port, .threads = 4, .rate = 500});
  ASSERT_TRUE(WaitUntil([&] { return load.Served() > 50; }, 10s, 20ms)) << "no traffic";

  lg.When().Apply({"--param", "label=v2", "--param", "failRate=0.1"});
  lg.Then().ExitCode(1).Verdict(2, "bad");
  lg.WaitForIdle(20s);
  load.Stop();

  lg.Then().Serves("v1");
  auto h = lg.History();
  ASSERT_GE(h.size(), 3u) << h.dump(2);
  EXPECT_EQ(h[0].value("trigger", ""), "auto") << h.dump(2);
  EXPECT_EQ(h[1].value("state", ""), "Failed") << h.dump(2);
  // The evidence, in words, in the record's reason and in the step's detail.
  const std::string reason = h[1].value("reason", "");
  EXPECT_NE(reason.find("analysis failed: canary "), std::string::npos) << reason;
  EXPECT_NE(reason.find("beyond the 2-point tolerance with 99.9% confidence, after "),
            std::string::npos)
      << reason;
  auto [detail, ms] = AnalysisOf(lg, h[1]);
  EXPECT_NE(detail.find("failed, stable "), std::string::npos) << detail;
  // About 200 canary requests at 100/s: 2 s typically; 15 s is far beyond chance.
  EXPECT_LT(ms, 15'000) << detail;
}

TEST(SequentialJudge, ACanaryItCannotTellApartWithinTheLimitFailsAsUndecided) {
  const int port = FreePort();
  Lastgood lg;
  // 1% beside 0%, tolerance 1 point: on the tolerance's edge, where neither answer can be shown
  // (each with at most a 0.1% chance), within window 1s + progressDeadline 2s.
  lg.Given()
      .App(SampleApp()
               .Strategy("canary")
               .ProgressDeadline("2s")
               .StrategyYaml(JudgedSteps(50, "0.01", "1s"))
               .Extra(RouteAt(port)))
      .Applied();
  SteadyLoad load({.port = port, .threads = 2, .rate = 200});
  ASSERT_TRUE(WaitUntil([&] { return load.Served() > 50; }, 10s, 20ms)) << "no traffic";

  lg.When().Apply({"--param", "label=v2", "--param", "failRate=0.01"});
  lg.Then().ExitCode(1);
  lg.WaitForIdle(20s);
  load.Stop();

  auto h = lg.History();
  ASSERT_GE(h.size(), 2u) << h.dump(2);
  const std::string reason = h[1].value("reason", "");
  EXPECT_NE(reason.find("analysis undecided within 3s (window + progressDeadline): canary "),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("not yet shown beyond or within the 1-point tolerance"), std::string::npos)
      << reason;
}

TEST(SequentialJudge, BluegreenJudgesThePreviewAgainstProductionOverTheSameMoments) {
  const int port = FreePort(), preview = FreePort();
  Lastgood lg;
  lg.Given()
      .App(SampleApp()
               .Strategy("bluegreen")
               .Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port) +
                      "\n  preview: 127.0.0.1:" + std::to_string(preview))
               .StrategyYaml("  bluegreen:\n    analysis: { judge: sequential, window: 30s, "
                             "tolerance: { errorRate: 0.05 } }"))
      .Applied();
  SteadyLoad production({.port = port, .threads = 2, .rate = 300});
  SteadyLoad testers({.port = preview, .threads = 2, .rate = 200});
  ASSERT_TRUE(WaitUntil([&] { return production.Served() > 50; }, 10s, 20ms)) << "no traffic";

  // A preview failing 30% of its requests beside a production failing none: not switched.
  lg.When().Apply({"--param", "label=v2", "--param", "failRate=0.3"}).Then().ExitCode(1);
  lg.WaitForIdle(20s);
  EXPECT_EQ(Lastgood::Label(port), "v1");
  auto h = lg.History();
  const std::string reason = h[0].value("reason", "") + h[1].value("reason", "");
  EXPECT_NE(reason.find("analysis failed: canary "), std::string::npos) << h.dump(2);
  EXPECT_EQ(reason.find("stable 0 of 0"), std::string::npos) << "production was not judged";
  // A preview as good as production is switched in.
  lg.When().Apply({"--param", "label=v3"}).Then().ExitCode(0);
  production.Stop();
  testers.Stop();
  EXPECT_EQ(Lastgood::Label(port), "v3");
  auto [detail, ms] = AnalysisOf(lg, lg.History()[0]);
  EXPECT_NE(detail.find("passed: canary 0 of "), std::string::npos) << detail;
}

TEST(SequentialJudge, WhatIfSaysHowManyCanaryRequestsAndHowLongAGoodCanaryShouldTake) {
  const int port = FreePort();
  auto app = [&](const std::string& tolerance) {
    return SampleApp()
        .Strategy("canary")
        .StrategyYaml(JudgedSteps(20, tolerance, "30s"))
        .Extra(RouteAt(port));
  };
  Lastgood lg;
  lg.Given().App(app("0.02")).Applied();
  SteadyLoad load({.port = port, .threads = 2, .rate = 200});
  ASSERT_TRUE(WaitUntil([&] { return load.Served() > 400; }, 10s, 20ms)) << "no traffic";

  lg.When().Apply({"--param", "label=v2", "--what-if"}).Then().ExitCode(0);
  // A stable failing nothing, 20% of ~200 requests/s: ~460 canary requests (the number
  // depends a little on the requests per look, so on the rate measured), ~11 s.
  const std::string said =
      "analyse canary v2 against stable — a canary as good as stable should "
      "pass after about ";
  lg.OutputHas(said);
  const std::string& out = lg.last().out;
  size_t at = out.find(said);
  int requests = at == std::string::npos ? 0 : std::atoi(out.c_str() + at + said.size());
  EXPECT_GT(requests, 400) << out;
  EXPECT_LT(requests, 520) << out;
  lg.OutputHas(" canary requests/s seen");
  EXPECT_EQ(out.find("beyond the analysis' limit"), std::string::npos) << out;
  // A tolerance of a tenth of a point takes far beyond the 40 s this analysis may take.
  lg.App(app("0.001")).When().Apply({"--param", "label=v2", "--what-if"}).Then().ExitCode(0);
  lg.OutputHas("that is beyond the analysis' limit of 40s");
  load.Stop();
}

}  // namespace
}  // namespace lastgood::testutil
