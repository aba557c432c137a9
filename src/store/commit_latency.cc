#include "store/commit_latency.h"

#include <atomic>

namespace lastgood {
namespace {

std::array<std::atomic<uint64_t>, kCommitLatencyBounds.size() + 1> g_counts;
std::atomic<uint64_t> g_sum_nanos{0};

}  // namespace

void RecordCommitLatency(std::chrono::nanoseconds took) {
  const double seconds = std::chrono::duration<double>(took).count();
  size_t bucket = 0;
  while (bucket < kCommitLatencyBounds.size() && seconds > kCommitLatencyBounds[bucket]) ++bucket;
  g_counts[bucket].fetch_add(1, std::memory_order_relaxed);
  g_sum_nanos.fetch_add(static_cast<uint64_t>(took.count()), std::memory_order_relaxed);
}

CommitLatencySnapshot CommitLatency() {
  CommitLatencySnapshot s;
  for (size_t i = 0; i < g_counts.size(); ++i)
    s.counts[i] = g_counts[i].load(std::memory_order_relaxed);
  s.sumSeconds = double(g_sum_nanos.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

}  // namespace lastgood
