// Recording of router statistics on the request path, and reading them back.
//
// A StatsSeries counts one app/slot/version/backend. It holds one SeriesCell per worker
// thread; a cell is written only by its thread (relaxed atomic stores, no read-modify-write,
// no lock) and read by any thread, which merges the cells. Each cell keeps a ring of
// kStatsWindowSeconds 1-second buckets (counters + a lazily allocated latency histogram)
// and cumulative totals for Prometheus counters. A reader racing a bucket reset may see a
// bucket half cleared; statistics tolerate that.
//
// StatsRegistry shares each series with the compiled tables whose backends it counts; an
// in-flight request keeps its table, and so its series, alive. A series that no table holds
// and that recorded nothing for a whole window is dropped (DropRetired), so the memory of
// the backends of past deployments is given back. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "base/duration.h"
#include "router/latency_histogram.h"
#include "router/stats.h"

namespace lastgood {

inline constexpr int kStatsWindowSeconds = 120;

// What happened to one request, recorded once it has a response (or has failed).
struct RequestSample {
  bool counts_request = true;   // false: only the connect error of an attempt that is retried
  int status = 0;               // the status sent to the client; 0 if none
  uint64_t latency_micros = 0;  // request headers read → response headers from upstream / error
  int connect_errors = 0;       // failed connection attempts to this backend
  bool timeout = false;         // the upstream did not answer in time
};

// The latency histogram the router exposes to Prometheus (router/metrics.h): cumulative since
// the router started, in fixed buckets that every router shares, so that Prometheus can add
// the buckets of instances and hosts up exactly. Bucket i counts latencies <= bound i (and
// above bound i-1); the last bucket those above every bound (le="+Inf").
inline constexpr uint64_t kExposedLatencyBoundsMicros[] = {
    100,     250,     500,     1'000,     2'500,     5'000,     10'000,     25'000,     50'000,
    100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000};
inline constexpr int kExposedLatencyBuckets = std::size(kExposedLatencyBoundsMicros) + 1;
int ExposedLatencyBucket(uint64_t micros);

struct StatsCounters {
  uint64_t requests = 0, by_class[4] = {0, 0, 0, 0}, connect_errors = 0, timeouts = 0;
  uint64_t max_micros = 0;
  // Totals only (zero in a window): the exposed latency histogram and the latencies' sum.
  uint64_t latency_buckets[kExposedLatencyBuckets] = {};
  uint64_t latency_sum_micros = 0;
  void Add(const StatsCounters& other);
};

// Counters and the merged histogram of some buckets, and the requests in flight now.
struct StatsSnapshot {
  StatsCounters counters;
  uint64_t histogram[kLatencyBuckets] = {};
  int64_t in_flight = 0;
  void Add(const StatsSnapshot& other);
  double QuantileMillis(double q) const;
};

class SeriesCell {
 public:
  SeriesCell() = default;
  ~SeriesCell();
  SeriesCell(const SeriesCell&) = delete;
  SeriesCell& operator=(const SeriesCell&) = delete;

  // REQUIRES: called only by the cell's thread. `second` is the current StatsSecond().
  void Record(int64_t second, const RequestSample& sample);
  // Adds the buckets of the seconds (now - window, now] into `out`. Any thread.
  void AddWindow(int64_t now, int window_seconds, StatsSnapshot* out) const;
  // Adds the cumulative counters into `out`. Any thread.
  void AddTotals(StatsCounters* out) const;
  // The newest second with a record, or -1. Any thread.
  int64_t LastSecond() const;
  // Adds each bucket of the seconds (now - kStatsWindowSeconds, now] into out[second]: what a
  // successor is handed (router/stats_carry.h). Any thread.
  void AddSeconds(int64_t now, std::map<int64_t, StatsSnapshot>* out) const;
  // A request to this backend begins / ends (from the choice of the backend to the end of
  // its response; an upgraded connection ends at its 101). REQUIRES: the cell's thread.
  void BeginRequest() { Bump(in_flight_, 1); }
  void EndRequest() { Bump(in_flight_, -1); }
  // Requests of this cell in flight now. Any thread.
  int64_t InFlight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  struct Counters {
    std::atomic<uint64_t> requests{0}, by_class[4]{}, connect_errors{0}, timeouts{0}, max_micros{0};
  };
  struct Bucket {
    std::atomic<int64_t> second{-1};
    Counters counters;
    std::atomic<std::atomic<uint32_t>*> histogram{nullptr};
  };
  template <typename T>
  static void Bump(std::atomic<T>& counter, std::type_identity_t<T> by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  static void Count(Counters& c, const RequestSample& sample);

  Bucket buckets_[kStatsWindowSeconds];
  Counters totals_;
  std::atomic<uint64_t> latency_buckets_[kExposedLatencyBuckets]{};
  std::atomic<uint64_t> latency_sum_micros_{0};
  std::atomic<int64_t> in_flight_{0};
};

struct StatsKey {
  std::string app, slot;
  int version = 0;
  std::string backend;
  // Requests that reached a slot because the client named it (X-Lastgood-Slot, query, or
  // a cookie outside the split), counted apart so that they cannot dilute the slot's
  // analysis (docs/router.md, Statistics).
  bool pinned = false;
  auto operator<=>(const StatsKey&) const = default;
};

struct CarriedSeries;
struct CarriedStats;

struct StatsSeries {
  StatsKey key;
  std::vector<std::unique_ptr<SeriesCell>> cells;  // one per worker thread
  // What a predecessor counted (router/stats_carry.h), read-only, added to the cells' counts
  // by every reader. Guarded by the registry's mutex (the request path never reads it).
  std::shared_ptr<const CarriedSeries> carried;
};

// Seconds on a monotonic clock; the bucket index of "now".
int64_t StatsSecond();

class StatsRegistry {
 public:
  explicit StatsRegistry(int threads) : threads_(threads) {}

  // The series for `key`, created on first use; the same series while anyone holds it.
  std::shared_ptr<StatsSeries> Series(const StatsKey& key);
  // Drops the series that only the registry holds and that recorded nothing in the
  // kStatsWindowSeconds up to `now` (a StatsSecond()): their windows are empty, and no
  // table can record into them again. Returns how many were dropped.
  size_t DropRetired(int64_t now);
  size_t size() const;
  // Rows per backend plus one aggregate row per app/slot/version (backend ""), over the
  // last `window` (rounded up to whole seconds, at most kStatsWindowSeconds).
  RouterStats Read(Millis window) const;
  // Every series' totals and its seconds of the last kStatsWindowSeconds up to `now` (a
  // StatsSecond()), what was carried over included: for a successor (router/stats_carry.h).
  // Exact once no thread records any more.
  CarriedStats Export(int64_t now) const;
  // Adds what a predecessor handed over; its seconds outside the window up to `now` are left
  // out. Read-only from then on: the worker threads never see it.
  void Carry(const CarriedStats& stats, int64_t now);
  // Calls `visit` for each series with its cumulative totals and its window snapshot.
  void Visit(int window_seconds,
             const std::function<void(const StatsKey&, const StatsCounters& totals,
                                      const StatsSnapshot& window)>& visit) const;

 private:
  std::shared_ptr<StatsSeries> NewSeries(const StatsKey& key) const;

  const int threads_;
  mutable std::mutex mu_;
  std::map<StatsKey, std::shared_ptr<StatsSeries>> series_;  // guarded by mu_
};

}  // namespace lastgood
