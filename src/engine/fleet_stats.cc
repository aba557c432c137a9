#include "engine/fleet_stats.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "router/latency_histogram.h"

namespace lastgood {

RouterStats MergeStats(const std::vector<RouterStats>& answers) {
  RouterStats out;
  std::map<std::tuple<std::string, std::string, int>, StatsRow> merged;
  for (const auto& a : answers) {
    out.windowMillis = std::max(out.windowMillis, a.windowMillis);
    // The latest restart among the hosts: before it, one host's counts are missing.
    out.statsSinceMillis = std::max(out.statsSinceMillis, a.statsSinceMillis);
    for (const auto& row : a.rows) {
      if (!row.backend.empty()) {
        out.rows.push_back(row);
        out.rows.back().sinceMillis = a.statsSinceMillis;
        continue;
      }
      auto [it, fresh] = merged.try_emplace({row.app, row.slot, row.version}, row);
      if (fresh) continue;
      StatsRow& m = it->second;
      m.requests += row.requests;
      m.responses2xx += row.responses2xx;
      m.responses3xx += row.responses3xx;
      m.responses4xx += row.responses4xx;
      m.responses5xx += row.responses5xx;
      m.connectErrors += row.connectErrors;
      m.timeouts += row.timeouts;
      m.inFlight += row.inFlight;
      m.totalRequests += row.totalRequests;
      m.totalErrors += row.totalErrors;
      m.maxms = std::max(m.maxms, row.maxms);
      m.latency.insert(m.latency.end(), row.latency.begin(), row.latency.end());
    }
  }
  for (auto& [key, row] : merged) {
    // One histogram from the hosts' own, then the percentiles read off it.
    std::vector<uint64_t> counts(kLatencyBuckets, 0);
    uint64_t total = 0;
    for (const auto& [bucket, n] : row.latency) {
      if (bucket < 0 || bucket >= kLatencyBuckets) continue;
      counts[bucket] += n;
      total += n;
    }
    row.latency.clear();
    for (int b = 0; b < kLatencyBuckets; ++b) {
      if (counts[b]) row.latency.emplace_back(b, counts[b]);
    }
    if (total > 0) {
      row.p50ms = LatencyQuantileMicros(counts.data(), total, 0.50) / 1000.0;
      row.p90ms = LatencyQuantileMicros(counts.data(), total, 0.90) / 1000.0;
      row.p99ms = LatencyQuantileMicros(counts.data(), total, 0.99) / 1000.0;
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace lastgood
