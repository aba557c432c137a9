#include "engine/fleet_plan.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

// "h1 start 2" for a host's step, "* analyze" for a whole deployment's: the plan's shape.
std::vector<std::string> FleetShape(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) {
    std::string op = StepToJson(s);
    auto at = op.find("\"op\":\"") + 6;
    std::string name = op.substr(at, op.find('"', at) - at);
    std::string line = (s.host.empty() ? "*" : s.host) + " " + name;
    if (s.op == Step::Op::kStart || s.op == Step::Op::kStopOld || s.op == Step::Op::kWeight)
      line += " " + std::to_string(s.count);
    if (s.wave) line += " w" + std::to_string(s.wave);
    out.push_back(line);
  }
  return out;
}

FleetHostPlan Host(const std::string& name, int old_instances, Strategy strategy) {
  FleetHostPlan h;
  h.host = name;
  h.in.version = 2;
  h.in.replicas = 2;
  h.in.strategy = strategy;
  h.in.oldInstances = old_instances;
  return h;
}

Strategy Rolling() {
  Strategy s;
  s.type = Strategy::Type::kRolling;
  s.rolling = {1, 0, std::nullopt};
  return s;
}

TEST(FleetPlan, PreparesEveryHostFirstThenRunsTheStrategyHostByHostWaveByWave) {
  FleetPlanInput in;
  in.version = 2;
  in.bake = Millis(5000);
  in.waves = {{Host("h1", 2, Rolling())}, {Host("h2", 2, Rolling()), Host("h3", 2, Rolling())}};
  EXPECT_EQ(FleetShape(PlanFleet(in)),
            (std::vector<std::string>{
                "h1 prepare", "h2 prepare", "h3 prepare",                                //
                "h1 start 1 w1", "h1 stopOld 1 w1", "h1 start 2 w1", "h1 stopOld 0 w1",  //
                "* bake w1",                                                             //
                "h2 start 1 w2", "h2 stopOld 1 w2", "h2 start 2 w2", "h2 stopOld 0 w2",  //
                "h3 start 1 w2", "h3 stopOld 1 w2", "h3 start 2 w2", "h3 stopOld 0 w2",  //
                "* bake w2", "* finish"}));
}

TEST(FleetPlan, ABlueGreensSmokeTestsAreEachHostsAndItsBakeFollowsTheSwitches) {
  Strategy bluegreen;
  bluegreen.type = Strategy::Type::kBlueGreen;
  bluegreen.blueGreen.smokeTest = Hook{{"./smoke"}, Millis(5000)};
  FleetPlanInput in;
  in.version = 2;
  in.bake = Millis(5000);
  // h3 runs nothing yet: a plain start in production, no preview, no smoke test, no switch.
  in.waves = {{Host("h1", 2, bluegreen)}, {Host("h2", 2, bluegreen), Host("h3", 0, bluegreen)}};
  EXPECT_EQ(FleetShape(PlanFleet(in)),
            (std::vector<std::string>{"h1 prepare", "h2 prepare", "h3 prepare",           //
                                      "h1 stopOld 0 w1", "h1 start 2 w1", "h1 smoke w1",  //
                                      "h2 stopOld 0 w2", "h2 start 2 w2", "h2 smoke w2",  //
                                      "h3 start 2 w2",                                    //
                                      "h1 switch w3", "h2 switch w4",                     //
                                      "* bake", "* finish"}));
}

TEST(FleetPlan, ACanarysAnalysesAndPausesHoldTheWholeWaveBetweenItsHostsSteps) {
  Strategy canary;
  canary.type = Strategy::Type::kCanary;
  CanaryStep weight;
  weight.kind = CanaryStep::Kind::kWeight;
  weight.weight = 50;
  CanaryStep analysis;
  analysis.kind = CanaryStep::Kind::kAnalysis;
  canary.canarySteps = {weight, analysis};
  FleetPlanInput in;
  in.version = 2;
  in.preHook = "preDeploy";
  in.waves = {{Host("h1", 2, canary), Host("h2", 2, canary)}};
  EXPECT_EQ(FleetShape(PlanFleet(in)),
            (std::vector<std::string>{"h1 prepare", "h2 prepare", "* hook",                    //
                                      "h1 weight 0 w1", "h1 start 1 w1", "h1 weight 50 w1",    //
                                      "h2 weight 0 w1", "h2 start 1 w1", "h2 weight 50 w1",    //
                                      "* analyze w1",                                          //
                                      "h1 start 2 w1", "h1 weight 100 w1", "h1 stopOld 0 w1",  //
                                      "h2 start 2 w1", "h2 weight 100 w1", "h2 stopOld 0 w1",
                                      "* finish"}));
}

TEST(FleetPlan, AHostThatRunsNothingYetIsRolledBeforeTheWavesAnalysis) {
  Strategy canary;
  canary.type = Strategy::Type::kCanary;
  CanaryStep weight;
  weight.kind = CanaryStep::Kind::kWeight;
  weight.weight = 50;
  CanaryStep analysis;
  analysis.kind = CanaryStep::Kind::kAnalysis;
  canary.canarySteps = {weight, analysis};
  FleetPlanInput in;
  in.version = 2;
  in.waves = {{Host("new", 0, canary), Host("old", 2, canary)}};
  auto shape = FleetShape(PlanFleet(in));
  auto at = [&](const std::string& line) {
    return std::find(shape.begin(), shape.end(), line) - shape.begin();
  };
  EXPECT_LT(at("new start 2 w1"), at("* analyze w1"));
  EXPECT_LT(at("old weight 50 w1"), at("* analyze w1"));
  EXPECT_GT(at("old stopOld 0 w1"), at("* analyze w1"));
}

TEST(FleetPlan, AWarmRollbackPreparesNothingOnWarmHostsAndPreparesAndStartsOnAColdOne) {
  auto host = [](const std::string& name, int warm) {
    FleetHostPlan h = Host(name, 2, Rolling());
    h.in.version = 1;
    h.in.warmInstances = warm;
    return h;
  };
  FleetPlanInput in;
  in.version = 1;
  // h3 and h2 were switched last (one wave), h1 first; h1 kept only one instance warm.
  in.waves = {{host("h3", 2), host("h2", 2)}, {host("h1", 1)}};
  EXPECT_EQ(FleetShape(PlanFleet(in)),
            (std::vector<std::string>{"h1 prepare",                        //
                                      "h3 takeWarm w1", "h2 takeWarm w1",  //
                                      "h1 start 1 w2", "h1 stopOld 1 w2", "h1 start 2 w2",
                                      "h1 stopOld 0 w2",  //
                                      "* finish"}));
}

TEST(FleetPlan, HostsNoLongerSelectedStopTheAppAfterTheLastWave) {
  FleetPlanInput in;
  in.version = 2;
  in.waves = {{Host("h1", 0, Rolling())}};
  in.leaving = {"gone"};
  auto shape = FleetShape(PlanFleet(in));
  ASSERT_GE(shape.size(), 2u);
  EXPECT_EQ(shape[shape.size() - 2], "gone stopOld 0 w2");
  EXPECT_EQ(shape.back(), "* finish");
}

TEST(FleetPlan, EveryHostStepIsStoredWithItsHostAndWave) {
  Step s;
  s.op = Step::Op::kStart;
  s.version = 3;
  s.count = 2;
  s.host = "web1";
  s.wave = 2;
  auto back = StepFromJson(StepToJson(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
  Step gate;
  gate.op = Step::Op::kBake;
  gate.version = 3;
  gate.duration = Millis(10'000);
  gate.wave = 2;
  EXPECT_EQ(Describe(gate), "wave 2: bake v3 for 10s");
}

TEST(FleetPlan, ARollingUpdatesAnalysisJudgesEachWaveTheLastAgainstItsLimitsAlone) {
  FleetPlanInput in;
  in.version = 2;
  in.waveAnalysis = true;
  in.waves = {{Host("h1", 2, Rolling())}, {Host("h2", 2, Rolling())}};
  auto steps = PlanFleet(in);
  std::vector<int> analyses;
  for (const auto& s : steps) {
    if (s.op == Step::Op::kAnalyze) analyses.push_back(s.count);
  }
  // After wave 1, h2 still runs v1 to compare with; after wave 2 nothing does.
  EXPECT_EQ(analyses, (std::vector<int>{kWaveAnalysis, kWaveAnalysisAlone}));
  EXPECT_EQ(FleetShape(steps),
            (std::vector<std::string>{
                "h1 prepare", "h2 prepare",                                              //
                "h1 start 1 w1", "h1 stopOld 1 w1", "h1 start 2 w1", "h1 stopOld 0 w1",  //
                "* analyze w1",                                                          //
                "h2 start 1 w2", "h2 stopOld 1 w2", "h2 start 2 w2", "h2 stopOld 0 w2",  //
                "* analyze w2", "* finish"}));
}

TEST(FleetPlan, AFirstRollingDeploymentHasNoWaveAnalysisForNothingRanBefore) {
  FleetPlanInput in;
  in.version = 1;
  in.waveAnalysis = true;
  in.waves = {{Host("h1", 0, Rolling())}, {Host("h2", 0, Rolling())}};
  for (const auto& s : PlanFleet(in)) EXPECT_NE(s.op, Step::Op::kAnalyze);
}

}  // namespace
}  // namespace lastgood
