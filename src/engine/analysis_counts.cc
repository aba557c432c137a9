#include "engine/analysis_counts.h"

#include <algorithm>

#include "router/latency_histogram.h"

namespace lastgood {

int AnalysedPair::SideOf(const StatsRow& row) const {
  if (row.app != app) return 0;
  if (row.slot == canarySlot && row.version == canaryVersion) return 1;
  if (row.slot == stableSlot && row.version != canaryVersion) return -1;
  return 0;
}

namespace {

// The statsSince of the router that counted a backend row: its host's in a fleet's merged
// answer, else the answer's.
int64_t SinceOf(const StatsRow& row, const RouterStats& stats) {
  return row.sinceMillis > 0 ? row.sinceMillis : stats.statsSinceMillis;
}

}  // namespace

void LookCounter::Start(const RouterStats& stats) {
  for (const auto& row : stats.rows) {
    if (row.backend.empty() || pair_.SideOf(row) == 0) continue;
    seen_[{row.slot, row.version, row.backend}] = {row.totalRequests, row.totalErrors,
                                                   SinceOf(row, stats)};
  }
}

void LookCounter::Next(const RouterStats& stats, RequestCounts* canary, RequestCounts* stable) {
  *canary = *stable = RequestCounts();
  for (const auto& row : stats.rows) {
    int side = row.backend.empty() ? 0 : pair_.SideOf(row);
    if (side == 0) continue;
    auto [it, first] = seen_.try_emplace({row.slot, row.version, row.backend});
    Seen& last = it->second;
    const int64_t since = SinceOf(row, stats);
    const bool carried = !first && since > 0 && since < last.since;
    const bool restarted = !first && last.since > 0 && since > last.since;
    if (carried) {
      last = {row.totalRequests, row.totalErrors, since};
      continue;
    }
    uint64_t requests, errors;
    if (restarted) {
      requests = row.totalRequests, errors = row.totalErrors;  // a new router's counts
    } else if (first) {
      requests = std::min(row.totalRequests, row.requests);
      errors = std::min(row.totalErrors, row.responses5xx);
    } else if (row.totalRequests < last.requests || row.totalErrors < last.errors) {
      requests = row.totalRequests, errors = row.totalErrors;  // counted again from 0
    } else {
      requests = row.totalRequests - last.requests, errors = row.totalErrors - last.errors;
    }
    last = {row.totalRequests, row.totalErrors, since};
    RequestCounts& into = side > 0 ? *canary : *stable;
    into.requests += requests;
    into.errors += std::min(errors, requests);
  }
}

LatencyHistogram LatencyOf(const RouterStats& stats, const AnalysedPair& pair, int side) {
  std::map<int, uint64_t> merged;
  for (const auto& row : stats.rows) {
    if (!row.backend.empty() || pair.SideOf(row) != side) continue;
    for (const auto& [bucket, count] : row.latency) merged[bucket] += count;
  }
  LatencyHistogram h;
  for (const auto& [bucket, count] : merged) {
    double low = double(LatencyBucketLowMicros(bucket)) / 1000;
    h.push_back({low, low + double(LatencyBucketWidthMicros(bucket)) / 1000, count});
  }
  return h;
}

TrafficSeen TrafficOf(const RouterStats& stats, const AnalysedPair& pair) {
  uint64_t canary = 0, stable = 0, stable_errors = 0;
  for (const auto& row : stats.rows) {
    int side = row.backend.empty() ? pair.SideOf(row) : 0;
    if (side > 0) canary += row.requests;
    if (side < 0) stable += row.requests, stable_errors += row.responses5xx;
  }
  TrafficSeen t;
  if (stable > 0) t.stableErrorRate = double(stable_errors) / double(stable);
  if (canary + stable > 0) t.canaryShare = double(canary) / double(canary + stable);
  if (stats.windowMillis > 0)
    t.requestsPerSecond = double(canary + stable) * 1000 / double(stats.windowMillis);
  return t;
}

}  // namespace lastgood
