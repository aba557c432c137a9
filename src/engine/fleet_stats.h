// The router statistics of a fleet's hosts as one answer (issue 14: "the router statistics of
// the hosts are merged — requests, errors, latency histograms — not averages of percentiles").
// Per-backend rows are kept as they are (instance ids are unique across hosts); the aggregate
// rows of the same app, slot and version are added up, their latency histograms summed, and
// their percentiles computed again from the sum.
//
// Pure function; thread-safe.
#pragma once

#include <vector>

#include "router/stats.h"

namespace lastgood {

RouterStats MergeStats(const std::vector<RouterStats>& answers);

}  // namespace lastgood
