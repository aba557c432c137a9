#include "api/metrics.h"

#include <gtest/gtest.h>

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

TEST(ControllerMetrics, SummariseTakesTheLabelsDurationsAndAnalysisVerdictsOfARecord) {
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
  auto f = ControllerMetrics::Summarise(d);
  EXPECT_EQ(f.kind, "rollback");
  EXPECT_EQ(f.trigger, "auto");
  EXPECT_EQ(f.outcome, "Succeeded");
  EXPECT_EQ(f.seconds, 3.5);
  ASSERT_EQ(f.steps.size(), 5u);  // neither the canceled nor the pending one
  EXPECT_EQ(f.steps[0], (std::pair<std::string, double>{"start", 0.25}));
  EXPECT_EQ(f.verdicts, (std::vector<std::string>{"pass", "fail", "undecided", "undecided"}));
}

}  // namespace
}  // namespace lastgood
