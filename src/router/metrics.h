// The router's statistics in Prometheus text format (exposition format 0.0.4), served at
// GET /metrics on the admin address. Counters are cumulative since the router started;
// latency quantiles are over the last kMetricsWindowSeconds. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "router/stats_window.h"

namespace lastgood {

inline constexpr int kMetricsWindowSeconds = 60;

std::string PrometheusText(const StatsRegistry& stats, uint64_t table_generation);

}  // namespace lastgood
