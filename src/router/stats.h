// Router statistics per app/slot/version/backend over a sliding window of 1-second buckets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace lastgood {

struct StatsRow {
  std::string app, slot;
  int version = 0;
  std::string backend;  // instance id; empty on the per-version aggregate rows
  uint64_t requests = 0;
  uint64_t responses2xx = 0, responses3xx = 0, responses4xx = 0, responses5xx = 0;
  uint64_t connectErrors = 0;  // upstream connect failures
  uint64_t timeouts = 0;       // upstream response timeouts
  double p50ms = 0, p90ms = 0, p99ms = 0, maxms = 0;
  uint64_t inFlight = 0;  // requests under way now (not windowed): what a drain waits for
  // Cumulative, not windowed: since the router began counting this backend (on an aggregate
  // row, the sum of its backend rows in the same answer). What a sequential analysis reads
  // every 100 ms, as deltas. Errors are the 5xx answers, the router's own 502/504 included.
  uint64_t totalRequests = 0, totalErrors = 0;
  // Aggregate rows: the window's latency histogram, as (bucket, count) for the buckets that
  // are not empty (router/latency_histogram.h's buckets), so that hosts can be added up.
  std::vector<std::pair<int, uint64_t>> latency = {};
  // Requests whose client named this slot itself, counted apart from the others (last, so
  // that positional initialisers of the fields above stay valid).
  bool pinned = false;
  // A backend row of a fleet's merged answer (engine/fleet_stats.h): the statsSince of the
  // host router that counted it, since each host restarts on its own. 0: the answer's own.
  int64_t sinceMillis = 0;
};

struct RouterStats {
  int64_t windowMillis = 0;
  // Wall clock (ms since the epoch) from which the counts are complete: the router's start,
  // or its predecessor's when that one handed its counters over (docs/router.md, "Statistics
  // across restarts"). A window that begins earlier holds only what came after it. 0: not
  // said (a router from before it was).
  int64_t statsSinceMillis = 0;
  std::vector<StatsRow> rows;  // per backend, and one aggregate row per app/slot/version
};

std::string StatsToJson(const RouterStats& stats);
Result<RouterStats> StatsFromJson(const std::string& json);

}  // namespace lastgood
