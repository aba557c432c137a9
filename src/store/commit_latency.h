// How long the store's write transactions took to commit (the COMMIT itself: WAL append and
// fsync), counted since this process started, for the controller's
// lastgood_store_commit_seconds histogram (docs/metrics.md). A process-wide tally: there is
// one store per controller.
//
// Thread-safe: relaxed atomics; a snapshot may be a few commits behind another thread's.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace lastgood {

// Upper bounds of the buckets, in seconds (the last bucket is +Inf).
inline constexpr std::array<double, 12> kCommitLatencyBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};

struct CommitLatencySnapshot {
  std::array<uint64_t, kCommitLatencyBounds.size() + 1> counts{};  // per bucket, not cumulative
  double sumSeconds = 0;
};

void RecordCommitLatency(std::chrono::nanoseconds took);
CommitLatencySnapshot CommitLatency();

}  // namespace lastgood
