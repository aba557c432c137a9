// The router's statistics in Prometheus text format (exposition format 0.0.4), served at
// GET /metrics on the metrics address (`lastgood router --admin ADDR`, `lastgood serve
// --router-metrics ADDR`). Every series is cumulative since the router started: counters, and
// request latency as a histogram in the fixed buckets of kExposedLatencyBoundsMicros, so that
// Prometheus can sum instances and hosts (docs/metrics.md). Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "router/stats_window.h"

namespace lastgood {

std::string PrometheusText(const StatsRegistry& stats, uint64_t table_generation);

}  // namespace lastgood
