#include "history/retention.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

Deployment Rec(int64_t id, int version, DeploymentState state,
               const std::string& slot = "production") {
  Deployment d;
  d.id = id;
  d.name = "d" + std::to_string(id);
  d.version = version;
  d.state = state;
  d.slot = slot;
  return d;
}

constexpr auto kEndedOk = DeploymentState::kSucceeded;
constexpr auto kEndedFailed = DeploymentState::kFailed;

TEST(Retention, KeepsEverythingWithoutAPolicyOrWithinIt) {
  std::vector<Deployment> ds = {Rec(1, 1, kEndedOk), Rec(2, 2, kEndedOk), Rec(3, 3, kEndedOk)};
  EXPECT_TRUE(RecordsToPrune(ds, {{"production", 3, 2}}, 0).empty());
  EXPECT_TRUE(RecordsToPrune(ds, {{"production", 3, 2}}, 3).empty());
}

TEST(Retention, PrunesTheOldestEndedRecordsBeyondKeep) {
  std::vector<Deployment> ds;
  for (int i = 1; i <= 6; ++i) ds.push_back(Rec(i, i, kEndedOk));
  // Running v6; last good when leaving v6 is v5 (d5). d1, d2 are the oldest.
  EXPECT_EQ(RecordsToPrune(ds, {{"production", 6, 5}}, 4), (std::vector<std::string>{"d1", "d2"}));
}

TEST(Retention, NeverPrunesTheRunningVersionsRecordsNorTheLastGoodOfAnySlot) {
  std::vector<Deployment> ds = {
      Rec(1, 1, kEndedOk, "staging"),  // staging's only good deployment: protected
      Rec(2, 2, kEndedOk),             // production runs v2: protected
      Rec(3, 3, kEndedOk),             // the last good to roll back to from v2 is v4 (newest other)
      Rec(4, 4, kEndedOk),
      Rec(5, 2, kEndedOk),  // a rollback to v2 (runs): protected
      Rec(6, 5, kEndedFailed),
  };
  auto pruned = RecordsToPrune(ds, {{"production", 2, 4}, {"staging", 1, std::nullopt}}, 1);
  EXPECT_EQ(pruned, (std::vector<std::string>{"d3", "d6"}));
}

TEST(Retention, NeverPrunesARunningRecord) {
  std::vector<Deployment> ds = {Rec(1, 1, kEndedOk), Rec(2, 2, kEndedOk),
                                Rec(3, 3, DeploymentState::kRunning)};
  auto pruned = RecordsToPrune(ds, {{"production", 2, 1}}, 1);
  EXPECT_TRUE(pruned.empty()) << "d1 is the last good when leaving v2, d2 runs";
}

}  // namespace
}  // namespace lastgood
