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
  in.strategy.rolling = {surge, unavailable};
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
  EXPECT_EQ(Describe({Op::kStart, 3, 2, Millis(0)}), "run 2 ready instances of v3");
  EXPECT_EQ(Describe({Op::kBake, 3, 0, Millis(10'000)}), "bake v3 for 10s");
}

}  // namespace
}  // namespace lastgood

namespace lastgood {
namespace {

TEST(Plan, RollbackToWarmInstancesSwitchesAllAtOnce) {
  PlanInput in = Rolling(4, 1, 0, 4);
  in.warmInstances = 4;
  std::vector<std::pair<Op, int>> want = {
      {Op::kPrepare, 0}, {Op::kStart, 4}, {Op::kStopOld, 0}, {Op::kFinish, 0}};
  EXPECT_EQ(Shape(PlanDeployment(in)), want);
}

}  // namespace
}  // namespace lastgood
