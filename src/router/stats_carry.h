// CarriedStats: the statistics a router worker hands its successor when it stops with one
// there to take them (a take-over, a SIGTERM restart; docs/router.md, "Statistics across
// restarts"), so that a window of GET /v1/stats that spans the restart is whole and
// statsSince does not move. Per series (app/slot/version/backend/pinned): the cumulative
// totals behind /metrics and the sequential analysis, and the 1-second buckets of the last
// kStatsWindowSeconds that windows are computed from (counters and latency histogram).
//
// The bytes travel in a file (a memfd) passed with SCM_RIGHTS over the keeper's channel.
// They come from another process, possibly another build: the decoder treats them as hostile
// — a layout version, a size limit, every count and length checked, names limited to the
// characters the table allows — and refuses them whole rather than use half of them.
// Pure functions except the two file helpers; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "router/stats_window.h"

namespace lastgood {

// The layout of the bytes; a successor refuses any other (then it counts from its own start).
inline constexpr uint32_t kCarriedStatsVersion = 1;
// At most this many bytes (a router with 1,000 busy backends over two minutes needs ~40 MB).
inline constexpr size_t kCarriedStatsLimit = size_t{64} << 20;

struct CarriedSecond {
  int64_t second = 0;      // StatsSecond() of the bucket (CLOCK_MONOTONIC, machine-wide)
  StatsCounters counters;  // requests, classes, connect errors, timeouts, max (no totals)
  std::vector<std::pair<int, uint64_t>> histogram;  // (bucket, count), buckets increasing
};

struct CarriedSeries {
  StatsKey key;
  StatsCounters totals;  // cumulative since the first router of the chain began counting
  std::vector<CarriedSecond> seconds;  // increasing, at most kStatsWindowSeconds
};

struct CarriedStats {
  int64_t stats_since_ms = 0;  // wall clock from which these counts are complete
  std::vector<CarriedSeries> series;
};

std::string EncodeCarriedStats(const CarriedStats& stats);
// InvalidInput naming what is wrong, for any bytes EncodeCarriedStats did not make.
Result<CarriedStats> DecodeCarriedStats(std::string_view bytes);

// A new anonymous file (memfd, close-on-exec) holding EncodeCarriedStats(stats).
Result<int> WriteCarriedStatsFile(const CarriedStats& stats);
// Reads and decodes such a file from its start: a regular file of at most kCarriedStatsLimit
// bytes. Does not close `fd`.
Result<CarriedStats> ReadCarriedStatsFile(int fd);

}  // namespace lastgood
