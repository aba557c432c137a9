#include "engine/plan.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

using Op = Step::Op;

PlanInput Rolling(int replicas, int surge, int unavailable, int old) {
  PlanInput in;
  in.version = 3;
  in.replicas = replicas;
  in.strategy.type = Strategy::Type::kRolling;
  in.strategy.rolling = {surge, unavailable, std::nullopt};
  in.oldInstances = old;
  return in;
}

std::vector<std::pair<Op, int>> Shape(const std::vector<Step>& steps) {
  std::vector<std::pair<Op, int>> out;
  for (const auto& s : steps) out.emplace_back(s.op, s.count);
  return out;
}

TEST(Plan, RollingOneByOneNeverDropsBelowReplicas) {
  auto steps = PlanDeployment(Rolling(4, 1, 0, 4));
  std::vector<std::pair<Op, int>> want = {
      {Op::kPrepare, 0}, {Op::kStart, 1},   {Op::kStopOld, 3}, {Op::kStart, 2},   {Op::kStopOld, 2},
      {Op::kStart, 3},   {Op::kStopOld, 1}, {Op::kStart, 4},   {Op::kStopOld, 0}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(steps), want);
}

TEST(Plan, RollingWithUnavailableStopsFirst) {
  auto steps = PlanDeployment(Rolling(2, 0, 1, 2));
  std::vector<std::pair<Op, int>> want = {{Op::kPrepare, 0}, {Op::kStopOld, 1}, {Op::kStart, 1},
                                          {Op::kStopOld, 0}, {Op::kStart, 2},   {Op::kFinish, 0}};
  EXPECT_EQ(Shape(steps), want);
}

TEST(Plan, FirstDeploymentStartsEverythingAtOnce) {
  auto steps = PlanDeployment(Rolling(3, 1, 0, 0));
  std::vector<std::pair<Op, int>> want = {{Op::kPrepare, 0}, {Op::kStart, 3}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(steps), want);
}

TEST(Plan, RecreateStopsOldThenStartsAll) {
  PlanInput in = Rolling(2, 1, 0, 2);
  in.strategy.type = Strategy::Type::kRecreate;
  in.bake = Millis(500);
  std::vector<std::pair<Op, int>> want = {
      {Op::kPrepare, 0}, {Op::kStopOld, 0}, {Op::kStart, 2}, {Op::kBake, 0}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(PlanDeployment(in)), want);
}

TEST(Plan, StepsSurviveTheirStoredForm) {
  for (const auto& s : PlanDeployment(Rolling(2, 1, 1, 3))) {
    auto back = StepFromJson(StepToJson(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(StepFromJson("{\"op\":\"launch\"}").ok());
  EXPECT_FALSE(StepFromJson("not json").ok());
}

TEST(Plan, DescribesStepsInTheDomainsWords) {
  EXPECT_EQ(Describe({Op::kStart, 3, 2, Millis(0), "", ""}), "run 2 ready instances of v3");
  EXPECT_EQ(Describe({Op::kBake, 3, 0, Millis(10'000), "", ""}), "bake v3 for 10s");
}

}  // namespace
}  // namespace lastgood

namespace lastgood {
namespace {

TEST(Plan, RollbackToWarmInstancesMovesTheTrafficFirstInOneTableChange) {
  PlanInput in = Rolling(4, 1, 0, 4);
  in.warmInstances = 4;
  std::vector<std::pair<Op, int>> want = {{Op::kTakeWarm, 4}, {Op::kPrepare, 0}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(PlanDeployment(in)), want);
}

TEST(Plan, APreRollbackHookRunsBeforeTheTrafficMovesToWarmInstances) {
  PlanInput in = Rolling(2, 1, 0, 2);
  in.warmInstances = 2;
  in.preHook = "preRollback";
  std::vector<std::pair<Op, int>> want = {
      {Op::kPrepare, 0}, {Op::kHook, 0}, {Op::kTakeWarm, 2}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(PlanDeployment(in)), want);
}

TEST(Plan, CanaryStartsAtZeroThenFollowsTheStepsThenTakesOver) {
  PlanInput in = Rolling(4, 1, 0, 4);
  in.strategy.type = Strategy::Type::kCanary;
  CanaryStep w10, analysis, w50, pause;
  w10.weight = 10;
  analysis.kind = CanaryStep::Kind::kAnalysis;
  w50.weight = 50;
  pause.kind = CanaryStep::Kind::kPause;
  in.strategy.canarySteps = {w10, analysis, w50, pause};
  std::vector<std::pair<Op, int>> want = {{Op::kPrepare, 0},  {Op::kWeight, 0},  {Op::kStart, 1},
                                          {Op::kWeight, 10},  {Op::kAnalyze, 1}, {Op::kStart, 2},
                                          {Op::kWeight, 50},  {Op::kPause, 0},   {Op::kStart, 4},
                                          {Op::kWeight, 100}, {Op::kStopOld, 0}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(PlanDeployment(in)), want);
}

TEST(Plan, CanaryOrBlueGreenWithNothingRunningIsPlannedAsRolling) {
  PlanInput in = Rolling(2, 1, 0, 0);
  in.strategy.type = Strategy::Type::kCanary;
  in.strategy.canarySteps = {CanaryStep{}};
  EXPECT_EQ(Shape(PlanDeployment(in)), Shape(PlanDeployment(Rolling(2, 1, 0, 0))));
  in.strategy.type = Strategy::Type::kBlueGreen;
  EXPECT_EQ(Shape(PlanDeployment(in)), Shape(PlanDeployment(Rolling(2, 1, 0, 0))));
}

TEST(Plan, BlueGreenComesUpInThePreviewSlotIsVerifiedThenSwitches) {
  PlanInput in = Rolling(2, 1, 0, 2);
  in.strategy.type = Strategy::Type::kBlueGreen;
  in.strategy.blueGreen.smokeTest = Hook{{"./smoke"}, Millis(1000)};
  auto steps = PlanDeployment(in);
  std::vector<std::pair<Op, int>> want = {{Op::kPrepare, 0}, {Op::kStopOld, 0}, {Op::kStart, 2},
                                          {Op::kSmoke, 0},   {Op::kSwitch, 0},  {Op::kFinish, 0}};
  EXPECT_EQ(Shape(steps), want);
  EXPECT_EQ(steps[2].slot, kPreviewSlot);
  EXPECT_EQ(steps[4].slot, kPreviewSlot);
}

TEST(Plan, ARollbackToWhatThePreviewSlotKeepsIsASwapBack) {
  PlanInput in = Rolling(2, 1, 0, 2);
  in.previewInstances = 2;
  std::vector<std::pair<Op, int>> want = {{Op::kSwitch, 0}, {Op::kPrepare, 0}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(PlanDeployment(in)), want);
}

TEST(Plan, HooksRunBeforeAnyInstanceStartsAndAfterBake) {
  PlanInput in = Rolling(1, 1, 0, 1);
  in.bake = Millis(1000);
  in.preHook = "preDeploy";
  in.postHook = "postDeploy";
  auto steps = PlanDeployment(in);
  ASSERT_GE(steps.size(), 4u);
  EXPECT_EQ(steps[1].op, Op::kHook);
  EXPECT_EQ(steps[1].name, "preDeploy");
  EXPECT_EQ(steps[steps.size() - 3].op, Op::kBake);
  EXPECT_EQ(steps[steps.size() - 2].name, "postDeploy");
}

TEST(Plan, SwapPhasesFollowAppService) {
  auto full = PlanSwap("staging", "production", "swap", 4, 3);
  std::vector<std::pair<Op, int>> want = {{Op::kPrepare, 0}, {Op::kSettings, 0}, {Op::kWarmup, 0},
                                          {Op::kSwitch, 0},  {Op::kSettings, 0}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(full), want);
  EXPECT_EQ(full[1].name, "production") << "the source first takes the target's settings";
  EXPECT_EQ(full[4].version, 3);
  EXPECT_EQ(full[4].name, "staging") << "what production ran takes staging's settings";
  EXPECT_EQ(PlanSwap("staging", "production", "preview", 4, 3).size(), 3u);
  auto cancel = PlanSwap("staging", "production", "cancel", 4, 3);
  EXPECT_EQ(cancel[1].name, "staging");
}

TEST(Plan, EveryStepSurvivesItsStoredForm) {
  for (const auto& step : PlanSwap("staging", "production", "swap", 4, 3)) {
    auto back = StepFromJson(StepToJson(step));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, step);
  }
}

}  // namespace
}  // namespace lastgood
