#include "history/rules.h"

#include <gtest/gtest.h>

#include "history/reasons.h"

namespace lastgood {
namespace {

using K = DeploymentKind;
using S = DeploymentState;

Deployment D(int64_t id, int version, S state, K kind = K::kDeploy,
             Trigger trigger = Trigger::kUser, const std::string& slot = kProductionSlot) {
  Deployment d;
  d.app = "web";
  d.id = id;
  d.name = GeneratedDeploymentName(kind, version, id);
  d.version = version;
  d.state = state;
  d.kind = kind;
  d.trigger = trigger;
  d.slot = slot;
  return d;
}

std::vector<Version> Versions(std::initializer_list<Verdict> verdicts) {
  std::vector<Version> out;
  for (Verdict v : verdicts) {
    Version version;
    version.app = "web";
    version.number = static_cast<int>(out.size()) + 1;
    version.verdict = v;
    out.push_back(version);
  }
  return out;
}

constexpr Verdict kGood = Verdict::kGood;
constexpr Verdict kBad = Verdict::kBad;
constexpr Verdict kUntested = Verdict::kUntested;

// --- VerdictAfter ---

TEST(VerdictAfter, SucceededMakesTheVersionGood) {
  EXPECT_EQ(VerdictAfter(D(1, 1, S::kSucceeded)), kGood);
}

TEST(VerdictAfter, FailedMakesTheVersionBad) { EXPECT_EQ(VerdictAfter(D(1, 2, S::kFailed)), kBad); }

TEST(VerdictAfter, ADeploymentRolledBackAutomaticallyMakesItsVersionBad) {
  EXPECT_EQ(VerdictAfter(D(2, 2, S::kRolledBack)), kBad);
}

TEST(VerdictAfter, TheAutomaticRollbackThatSucceedsMakesTheVersionItWentToGoodAgain) {
  EXPECT_EQ(VerdictAfter(D(3, 1, S::kSucceeded, K::kRollback, Trigger::kAuto)), kGood);
}

TEST(VerdictAfter, ADeploymentCanceledByAManualRollbackLeavesItsVersionAsItWas) {
  EXPECT_EQ(VerdictAfter(D(2, 2, S::kCanceled)), std::nullopt);
}

TEST(VerdictAfter, Issue4ADeploymentAbortedByTheUserMakesItsVersionBad) {
  // An abort rolls the deployment back; its record says RolledBack with kind deploy.
  EXPECT_EQ(VerdictAfter(D(2, 2, S::kRolledBack, K::kDeploy, Trigger::kUser)), kBad);
}

TEST(VerdictAfter, ARunningDeploymentGivesNoVerdictYet) {
  EXPECT_EQ(VerdictAfter(D(2, 2, S::kRunning)), std::nullopt);
}

// --- RollbackTarget ---

TEST(Rollback, GoesToTheLastGoodVersion) {
  auto vs = Versions({kGood, kGood, kBad});
  auto target = RollbackTarget(vs, {}, 2, 3, std::nullopt, false);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 2);
}

TEST(Rollback, SaysNothingToRollBackToWhenNoOtherVersionSucceeded) {
  auto vs = Versions({kGood, kBad});
  std::vector<Deployment> ds = {D(1, 1, S::kSucceeded), D(2, 2, S::kFailed)};
  auto target = RollbackTarget(vs, ds, std::nullopt, 1, std::nullopt, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(target.error().message, kReasonNothingToRollBackTo);
}

TEST(Rollback, ToAVersionThatDoesNotExistSaysWhichVersionsDo) {
  auto vs = Versions({kGood, kGood, kGood, kGood});
  auto target = RollbackTarget(vs, {}, std::nullopt, 4, 9, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(target.error().message, "version 9 of web does not exist (versions 1-4)");
}

TEST(Rollback, RefusesBadVersionWithoutForce) {
  auto vs = Versions({kGood, kGood, kBad, kGood});
  std::vector<Deployment> ds = {D(1, 1, S::kSucceeded), D(2, 2, S::kSucceeded), D(7, 3, S::kFailed),
                                D(8, 4, S::kSucceeded)};
  auto target = RollbackTarget(vs, ds, std::nullopt, 4, 3, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kConflict);
  EXPECT_EQ(target.error().message,
            "version 3 is bad (its deployment deploy-3-7 failed); use --force to roll back to "
            "it anyway");
}

TEST(Rollback, GoesToABadVersionWithForce) {
  auto vs = Versions({kGood, kGood, kBad, kGood});
  auto target = RollbackTarget(vs, {D(7, 3, S::kFailed)}, std::nullopt, 4, 3, true);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 3);
}

TEST(Rollback, RefusesAnUntestedVersionWithoutForce) {
  auto vs = Versions({kGood, kUntested, kGood});
  auto target = RollbackTarget(vs, {}, std::nullopt, 3, 2, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kConflict);
  EXPECT_NE(target.error().message.find("--force"), std::string::npos);
  EXPECT_TRUE(RollbackTarget(vs, {}, std::nullopt, 3, 2, true).ok());
}

TEST(Rollback, ToAGoodOlderVersionGoesThere) {
  auto vs = Versions({kGood, kGood, kGood});
  auto target = RollbackTarget(vs, {}, std::nullopt, 3, 1, false);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 1);
}

TEST(Rollback, ToTheRunningVersionReturnsItSoTheCallerCanSayNoOp) {
  auto vs = Versions({kGood, kBad});
  auto target = RollbackTarget(vs, {}, std::nullopt, 2, 2, false);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 2);
}

// --- RollforwardTarget ---

TEST(Rollforward, GoesToTheNewestVersionThatIsNotBad) {
  auto vs = Versions({kGood, kBad, kUntested, kBad});
  auto target = RollforwardTarget(vs, 1, std::nullopt, false);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 3);
}

TEST(Rollforward, WithForceGoesToTheNewestVersionEvenIfBad) {
  auto vs = Versions({kGood, kBad, kUntested, kBad});
  auto target = RollforwardTarget(vs, 1, std::nullopt, true);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 4);
}

TEST(Rollforward, UndoesARollbackThatWasAFalseAlarm) {
  // v3 was rolled back manually (verdict unchanged: good); rollforward goes back to it.
  auto vs = Versions({kGood, kGood, kGood});
  auto target = RollforwardTarget(vs, 2, std::nullopt, false);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 3);
}

TEST(Rollforward, RefusesAVersionOlderThanTheRunningOneAndPointsToRollback) {
  auto vs = Versions({kGood, kGood, kGood});
  auto target = RollforwardTarget(vs, 3, 2, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(target.error().message,
            "version 2 is not newer than the running version 3; use rollback --to 2");
}

TEST(Rollforward, RefusesBadVersionWithoutForce) {
  auto vs = Versions({kGood, kBad});
  auto refused = RollforwardTarget(vs, 1, 2, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().message, "version 2 is bad; use --force to roll forward to it anyway");
  auto forced = RollforwardTarget(vs, 1, 2, true);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(*forced, 2);
}

TEST(Rollforward, ToAnUntestedFixGoesThere) {
  auto vs = Versions({kGood, kBad, kUntested});
  auto target = RollforwardTarget(vs, 1, 3, false);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(*target, 3);
}

TEST(Rollforward, SaysNothingToRollForwardToWhenTheNewestIsRunning) {
  auto vs = Versions({kGood, kGood});
  auto target = RollforwardTarget(vs, 2, std::nullopt, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(target.error().message.rfind(kReasonNothingToRollForwardTo, 0), 0u)
      << target.error().message;
}

TEST(Rollforward, RefusesWhenEveryNewerVersionIsBadAndNamesThem) {
  auto vs = Versions({kGood, kBad, kBad});
  auto target = RollforwardTarget(vs, 1, std::nullopt, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kConflict);
  EXPECT_NE(target.error().message.find("(2, 3)"), std::string::npos) << target.error().message;
}

TEST(Rollforward, ToAVersionThatDoesNotExistIsNotFound) {
  auto vs = Versions({kGood, kGood});
  auto target = RollforwardTarget(vs, 1, 5, false);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(target.error().message, "version 5 of web does not exist (versions 1-2)");
}

TEST(Rollforward, ToTheRunningVersionReturnsItSoTheCallerCanSayNoOp) {
  auto vs = Versions({kGood, kGood});
  auto target = RollforwardTarget(vs, 2, 2, false);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, 2);
}

// --- numbering and names ---

TEST(NextVersionNumber, StartsAtOneAndFollowsTheHighest) {
  EXPECT_EQ(NextVersionNumber({}), 1);
  EXPECT_EQ(NextVersionNumber(Versions({kGood, kBad, kUntested})), 4);
}

TEST(GeneratedDeploymentName, IsKindVersionAndSequence) {
  EXPECT_EQ(GeneratedDeploymentName(K::kDeploy, 3, 17), "deploy-3-17");
  EXPECT_EQ(GeneratedDeploymentName(K::kRollback, 2, 18), "rollback-2-18");
}

}  // namespace
}  // namespace lastgood
