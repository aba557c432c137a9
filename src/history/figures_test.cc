#include "history/figures.h"

#include <gtest/gtest.h>

#include <map>

namespace lastgood {
namespace {

Operation Op(const std::string& op, OperationState state, int64_t from, int64_t to,
             const std::string& detail = "") {
  Operation o;
  o.spec = "{\"op\":\"" + op + "\",\"version\":2}";
  o.state = state;
  o.startedAt = from;
  o.finishedAt = to;
  o.detail = detail;
  return o;
}

std::map<std::string, double> Summed(const std::vector<Figure>& figures) {
  std::map<std::string, double> out;
  for (const auto& [k, v] : figures) out[k] += v;
  return out;
}

TEST(FiguresOf, CountTheRecordByItsLabelsWithItsDurationsAndAnalysisVerdicts) {
  Deployment d;
  d.app = "web";
  d.kind = DeploymentKind::kRollback;
  d.trigger = Trigger::kAuto;
  d.state = DeploymentState::kSucceeded;
  d.startedAt = 1'000;
  d.finishedAt = 4'500;
  d.operations = {
      Op("start", OperationState::kSucceeded, 1'000, 1'250),
      Op("analyze", OperationState::kSucceeded, 1'250, 2'000, "passed: ..."),
      Op("analyze", OperationState::kFailed, 2'000, 3'000, "analysis failed: canary ..."),
      Op("analyze", OperationState::kFailed, 3'000, 4'000, "analysis undecided within 3s"),
      Op("analyze", OperationState::kFailed, 3'000, 4'000, "analysis reached no verdict within"),
      Op("analyze", OperationState::kCanceled, 4'000, 4'100),
      Op("finish", OperationState::kPending, 0, 0),
  };
  auto f = Summed(FiguresOf(d));
  EXPECT_EQ(f[FigureKey({kFigDeployments, "web", "rollback", "auto", "Succeeded"})], 1);
  EXPECT_EQ(f[FigureKey({kFigAutoRollbacks, "web"})], 1);
  EXPECT_EQ(f[FigureKey({kFigDeploymentSeconds, "web", "rollback", "Succeeded", "1"})], 1);
  EXPECT_EQ(f[FigureKey({kFigDeploymentSeconds, "web", "rollback", "Succeeded", kFigSum})], 3.5);
  EXPECT_EQ(f[FigureKey({kFigStepSeconds, "web", "start", "2"})], 1);  // 0.25 s: (0.1, 0.5]
  EXPECT_EQ(f[FigureKey({kFigStepSeconds, "web", "analyze", kFigSum})], 3.75);
  EXPECT_EQ(f[FigureKey({kFigAnalysisVerdicts, "web", "pass"})], 1);
  EXPECT_EQ(f[FigureKey({kFigAnalysisVerdicts, "web", "fail"})], 1);
  EXPECT_EQ(f[FigureKey({kFigAnalysisVerdicts, "web", "undecided"})], 2);
  EXPECT_EQ(f.count(FigureKey({kFigStepSeconds, "web", "finish", kFigSum})), 0u);
}

TEST(FiguresOf, AUserRollbackIsNoAutomaticOne) {
  Deployment d;
  d.app = "web";
  d.kind = DeploymentKind::kRollback;
  d.state = DeploymentState::kSucceeded;
  EXPECT_EQ(Summed(FiguresOf(d)).count(FigureKey({kFigAutoRollbacks, "web"})), 0u);
}

TEST(FigureKey, SplitsBackIntoItsParts) {
  std::vector<std::string> parts = {"deployments", "web", "", "x"};
  EXPECT_EQ(FigureParts(FigureKey(parts)), parts);
  EXPECT_EQ(FigureParts("one"), std::vector<std::string>{"one"});
}

}  // namespace
}  // namespace lastgood
