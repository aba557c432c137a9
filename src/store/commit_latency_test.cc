#include "store/commit_latency.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(CommitLatency, CountsEachCommitInTheBucketOfItsUpperBound) {
  CommitLatencySnapshot before = CommitLatency();
  RecordCommitLatency(std::chrono::microseconds(100));  // exactly 0.0001: the first bucket
  RecordCommitLatency(std::chrono::milliseconds(3));    // (0.0025, 0.005]
  RecordCommitLatency(std::chrono::seconds(2));         // above 1 s: +Inf
  CommitLatencySnapshot after = CommitLatency();
  EXPECT_EQ(after.counts[0] - before.counts[0], 1u);
  EXPECT_EQ(after.counts[5] - before.counts[5], 1u);
  EXPECT_EQ(after.counts.back() - before.counts.back(), 1u);
  EXPECT_NEAR(after.sumSeconds - before.sumSeconds, 2.0031, 1e-9);
}

}  // namespace
}  // namespace lastgood
