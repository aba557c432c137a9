#include "history/model.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(Names, EveryStateNameParsesBackToItsState) {
  for (auto s : {DeploymentState::kRunning, DeploymentState::kSucceeded, DeploymentState::kFailed,
                 DeploymentState::kRolledBack, DeploymentState::kCanceled}) {
    EXPECT_EQ(ParseState(StateName(s)), s);
  }
  for (auto k : {DeploymentKind::kDeploy, DeploymentKind::kRollback, DeploymentKind::kRollforward,
                 DeploymentKind::kPromote, DeploymentKind::kSwap}) {
    EXPECT_EQ(ParseKind(KindName(k)), k);
  }
  for (auto v : {Verdict::kUntested, Verdict::kGood, Verdict::kBad}) {
    EXPECT_EQ(ParseVerdict(VerdictName(v)), v);
  }
  for (auto t : {Trigger::kUser, Trigger::kAuto}) EXPECT_EQ(ParseTrigger(TriggerName(t)), t);
  for (auto o : {OperationState::kPending, OperationState::kRunning, OperationState::kSucceeded,
                 OperationState::kFailed, OperationState::kCanceled, OperationState::kSkipped}) {
    EXPECT_EQ(ParseOperationState(OperationStateName(o)), o);
  }
}

TEST(Names, AreTheWordsOfTheJsonContract) {
  EXPECT_STREQ(StateName(DeploymentState::kRolledBack), "RolledBack");
  EXPECT_STREQ(KindName(DeploymentKind::kRollforward), "rollforward");
  EXPECT_STREQ(VerdictName(Verdict::kUntested), "untested");
  EXPECT_STREQ(TriggerName(Trigger::kAuto), "auto");
  EXPECT_STREQ(OperationStateName(OperationState::kSkipped), "Skipped");
}

TEST(Names, UnknownOrMiscasedWordsDoNotParse) {
  EXPECT_EQ(ParseState("running"), std::nullopt);
  EXPECT_EQ(ParseKind("Deploy"), std::nullopt);
  EXPECT_EQ(ParseVerdict(""), std::nullopt);
  EXPECT_EQ(ParseTrigger("cron"), std::nullopt);
}

}  // namespace
}  // namespace lastgood
