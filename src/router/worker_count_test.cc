#include "router/worker_count.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(WorkerCount, IsOnePerCpuOfTheAffinityMask) {
  EXPECT_EQ(WorkerCount(0, {.affinity = 1, .quota = std::nullopt}), 1);  // taskset -c 1 on a 2-core machine
  EXPECT_EQ(WorkerCount(0, {.affinity = 8, .quota = std::nullopt}), 8);
}

TEST(WorkerCount, IsCappedByTheCgroupQuotaRoundedUp) {
  EXPECT_EQ(WorkerCount(0, {.affinity = 8, .quota = 2.0}), 2);
  EXPECT_EQ(WorkerCount(0, {.affinity = 8, .quota = 1.5}), 2);
  EXPECT_EQ(WorkerCount(0, {.affinity = 8, .quota = 0.2}), 1);
  EXPECT_EQ(WorkerCount(0, {.affinity = 2, .quota = 4.0}), 2);
}

TEST(WorkerCount, TakesAnExplicitCountAsIs) {
  EXPECT_EQ(WorkerCount(3, {.affinity = 1, .quota = 0.5}), 3);
}

TEST(WorkerCount, ReadsCpuMax) {
  EXPECT_FALSE(ParseCpuMax("max 100000\n"));
  EXPECT_DOUBLE_EQ(*ParseCpuMax("150000 100000\n"), 1.5);
  EXPECT_FALSE(ParseCpuMax(""));
  EXPECT_FALSE(ParseCpuMax("junk"));
}

TEST(WorkerCount, ReadsThisProcesssAffinity) {
  CpuLimits limits = ReadCpuLimits();
  EXPECT_GE(limits.affinity, 1);
  EXPECT_GE(WorkerCount(0, limits), 1);
}

}  // namespace
}  // namespace lastgood
