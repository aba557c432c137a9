#include "history/retention.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

Deployment D(int64_t id, int version, DeploymentState state,
             const std::string& slot = "production") {
  Deployment d;
  d.id = id;
  d.name = "d" + std::to_string(id);
  d.version = version;
  d.state = state;
  d.slot = slot;
  return d;
}

constexpr auto kOk = DeploymentState::kSucceeded;
constexpr auto kFailed = DeploymentState::kFailed;

TEST(Retention, KeepsEverythingWithoutAPolicyOrWithinIt) {
  std::vector<Deployment> ds = {D(1, 1, kOk), D(2, 2, kOk), D(3, 3, kOk)};
  EXPECT_TRUE(RecordsToPrune(ds, {{"production", 3}}, 0).empty());
  EXPECT_TRUE(RecordsToPrune(ds, {{"production", 3}}, 3).empty());
}

TEST(Retention, PrunesTheOldestEndedRecordsBeyondKeep) {
  std::vector<Deployment> ds;
  for (int i = 1; i <= 6; ++i) ds.push_back(D(i, i, kOk));
  // Running v6; last good when leaving v6 is v5 (d5). d1, d2 are the oldest.
  EXPECT_EQ(RecordsToPrune(ds, {{"production", 6}}, 4), (std::vector<std::string>{"d1", "d2"}));
}

TEST(Retention, NeverPrunesTheRunningVersionsRecordsNorTheLastGoodOfAnySlot) {
  std::vector<Deployment> ds = {
      D(1, 1, kOk, "staging"),  // staging's only good deployment: protected
      D(2, 2, kOk),             // production runs v2: protected
      D(3, 3, kOk),             // the last good to roll back to from v2 is v4 (newest other)
      D(4, 4, kOk),
      D(5, 2, kOk),  // a rollback to v2 (runs): protected
      D(6, 5, kFailed),
  };
  auto pruned = RecordsToPrune(ds, {{"production", 2}, {"staging", 1}}, 1);
  EXPECT_EQ(pruned, (std::vector<std::string>{"d3", "d6"}));
}

TEST(Retention, NeverPrunesARunningRecord) {
  std::vector<Deployment> ds = {D(1, 1, kOk), D(2, 2, kOk), D(3, 3, DeploymentState::kRunning)};
  auto pruned = RecordsToPrune(ds, {{"production", 2}}, 1);
  EXPECT_TRUE(pruned.empty()) << "d1 is the last good when leaving v2, d2 runs";
}

}  // namespace
}  // namespace lastgood
