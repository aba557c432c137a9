// The router's statistics in Prometheus text format (exposition format 0.0.4), served at
// GET /metrics on the metrics address (`lastgood router --admin ADDR`, `lastgood serve
// --router-metrics ADDR`). Every series is cumulative since the router started: counters, and
// request latency as a histogram in the fixed buckets of kExposedLatencyBoundsMicros, so that
// Prometheus can sum instances and hosts (docs/metrics.md). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "router/health_report.h"
#include "router/stats_window.h"

namespace lastgood {

// The router-wide figures besides the per-backend series.
struct RouterGauges {
  uint64_t table_generation = 0;
  uint64_t refused_over_limit = 0;  // connections reset: max_connections reached
  uint64_t refused_per_client = 0;  // connections reset: a listener's per-client limit
  std::vector<ListenerState> listeners;
};

std::string PrometheusText(const StatsRegistry& stats, const RouterGauges& gauges);

}  // namespace lastgood
