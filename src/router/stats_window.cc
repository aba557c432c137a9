#include "router/stats_window.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "router/stats_carry.h"

namespace lastgood {

int ExposedLatencyBucket(uint64_t micros) {
  const auto* bounds = std::begin(kExposedLatencyBoundsMicros);
  return static_cast<int>(std::lower_bound(bounds, std::end(kExposedLatencyBoundsMicros), micros) -
                          bounds);
}

void StatsCounters::Add(const StatsCounters& o) {
  requests += o.requests;
  for (int i = 0; i < kExposedLatencyBuckets; ++i) latency_buckets[i] += o.latency_buckets[i];
  latency_sum_micros += o.latency_sum_micros;
  for (int i = 0; i < 4; ++i) by_class[i] += o.by_class[i];
  connect_errors += o.connect_errors;
  timeouts += o.timeouts;
  max_micros = std::max(max_micros, o.max_micros);
}

void StatsSnapshot::Add(const StatsSnapshot& o) {
  counters.Add(o.counters);
  in_flight += o.in_flight;
  for (int b = 0; b < kLatencyBuckets; ++b) histogram[b] += o.histogram[b];
}

double StatsSnapshot::QuantileMillis(double q) const {
  uint64_t total = 0;
  for (uint64_t c : histogram) total += c;
  // A bucket stands for its middle, which may lie above the largest value it holds: a
  // quantile is never reported above the window's maximum.
  double micros = LatencyQuantileMicros(histogram, total, q);
  if (total > 0) micros = std::min(micros, static_cast<double>(counters.max_micros));
  return micros / 1000.0;
}

int64_t StatsSecond() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec;
}

SeriesCell::~SeriesCell() {
  for (auto& b : buckets_) delete[] b.histogram.load();
}

void SeriesCell::Count(Counters& c, const RequestSample& s) {
  Bump(c.requests);
  if (s.status >= 200 && s.status < 600) Bump(c.by_class[s.status / 100 - 2]);
  if (s.connect_errors) Bump(c.connect_errors, s.connect_errors);
  if (s.timeout) Bump(c.timeouts);
  if (s.latency_micros > c.max_micros.load(std::memory_order_relaxed)) {
    c.max_micros.store(s.latency_micros, std::memory_order_relaxed);
  }
}

void SeriesCell::Record(int64_t second, const RequestSample& sample) {
  Bucket& b = buckets_[second % kStatsWindowSeconds];
  std::atomic<uint32_t>* histogram = b.histogram.load(std::memory_order_relaxed);
  if (b.second.load(std::memory_order_relaxed) != second) {
    // A bucket from kStatsWindowSeconds ago (or never used): clear it before reuse.
    b.second.store(-1, std::memory_order_release);
    for (auto* c : {&b.counters.requests, &b.counters.connect_errors, &b.counters.timeouts,
                    &b.counters.max_micros}) {
      c->store(0, std::memory_order_relaxed);
    }
    for (auto& c : b.counters.by_class) c.store(0, std::memory_order_relaxed);
    if (histogram) {
      for (int i = 0; i < kLatencyBuckets; ++i) histogram[i].store(0, std::memory_order_relaxed);
    } else {
      histogram = new std::atomic<uint32_t>[kLatencyBuckets]();
      b.histogram.store(histogram, std::memory_order_release);
    }
    b.second.store(second, std::memory_order_release);
  }
  if (!sample.counts_request) {
    Bump(b.counters.connect_errors, sample.connect_errors);
    Bump(totals_.connect_errors, sample.connect_errors);
    return;
  }
  Count(b.counters, sample);
  Count(totals_, sample);
  Bump(latency_buckets_[ExposedLatencyBucket(sample.latency_micros)]);
  Bump(latency_sum_micros_, sample.latency_micros);
  auto& slot = histogram[LatencyBucket(sample.latency_micros)];
  slot.store(slot.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void SeriesCell::AddWindow(int64_t now, int window_seconds, StatsSnapshot* out) const {
  for (const Bucket& b : buckets_) {
    int64_t s = b.second.load(std::memory_order_acquire);
    if (s < 0 || s > now || s <= now - window_seconds) continue;
    StatsCounters c;
    c.requests = b.counters.requests.load(std::memory_order_relaxed);
    for (int i = 0; i < 4; ++i)
      c.by_class[i] = b.counters.by_class[i].load(std::memory_order_relaxed);
    c.connect_errors = b.counters.connect_errors.load(std::memory_order_relaxed);
    c.timeouts = b.counters.timeouts.load(std::memory_order_relaxed);
    c.max_micros = b.counters.max_micros.load(std::memory_order_relaxed);
    out->counters.Add(c);
    if (const auto* h = b.histogram.load(std::memory_order_acquire)) {
      for (int i = 0; i < kLatencyBuckets; ++i)
        out->histogram[i] += h[i].load(std::memory_order_relaxed);
    }
  }
}

void SeriesCell::AddTotals(StatsCounters* out) const {
  StatsCounters c;
  c.requests = totals_.requests.load(std::memory_order_relaxed);
  for (int i = 0; i < 4; ++i) c.by_class[i] = totals_.by_class[i].load(std::memory_order_relaxed);
  c.connect_errors = totals_.connect_errors.load(std::memory_order_relaxed);
  c.timeouts = totals_.timeouts.load(std::memory_order_relaxed);
  c.max_micros = totals_.max_micros.load(std::memory_order_relaxed);
  for (int i = 0; i < kExposedLatencyBuckets; ++i)
    c.latency_buckets[i] = latency_buckets_[i].load(std::memory_order_relaxed);
  c.latency_sum_micros = latency_sum_micros_.load(std::memory_order_relaxed);
  out->Add(c);
}

int64_t SeriesCell::LastSecond() const {
  int64_t last = -1;
  for (const Bucket& b : buckets_) last = std::max(last, b.second.load(std::memory_order_acquire));
  return last;
}

void SeriesCell::AddSeconds(int64_t now, std::map<int64_t, StatsSnapshot>* out) const {
  for (const Bucket& b : buckets_) {
    int64_t s = b.second.load(std::memory_order_acquire);
    if (s < 0 || s > now || s <= now - kStatsWindowSeconds) continue;
    StatsSnapshot one;
    AddWindow(s, 1, &one);
    (*out)[s].Add(one);
  }
}

namespace {

// Adds the carried seconds within (now - window_seconds, now] into `out` by second.
void AddCarriedSeconds(const CarriedSeries& carried, int64_t now, int window_seconds,
                       std::map<int64_t, StatsSnapshot>* out) {
  for (const auto& sec : carried.seconds) {
    if (sec.second > now || sec.second <= now - window_seconds) continue;
    StatsSnapshot& into = (*out)[sec.second];
    into.counters.Add(sec.counters);
    for (const auto& [bucket, count] : sec.histogram) into.histogram[bucket] += count;
  }
}

std::vector<CarriedSecond> ToCarriedSeconds(const std::map<int64_t, StatsSnapshot>& seconds) {
  std::vector<CarriedSecond> out;
  for (const auto& [second, snapshot] : seconds) {
    CarriedSecond sec;
    sec.second = second;
    sec.counters = snapshot.counters;
    for (int b = 0; b < kLatencyBuckets; ++b)
      if (snapshot.histogram[b]) sec.histogram.emplace_back(b, snapshot.histogram[b]);
    out.push_back(std::move(sec));
  }
  return out;
}

int64_t LastCarriedSecond(const StatsSeries& series) {
  if (!series.carried || series.carried->seconds.empty()) return -1;
  return series.carried->seconds.back().second;
}

}  // namespace

std::shared_ptr<StatsSeries> StatsRegistry::NewSeries(const StatsKey& key) const {
  auto series = std::make_shared<StatsSeries>();
  series->key = key;
  for (int t = 0; t < threads_; ++t) series->cells.push_back(std::make_unique<SeriesCell>());
  return series;
}

std::shared_ptr<StatsSeries> StatsRegistry::Series(const StatsKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = series_[key];
  if (!slot) slot = NewSeries(key);
  return slot;
}

CarriedStats StatsRegistry::Export(int64_t now) const {
  CarriedStats out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, series] : series_) {
    CarriedSeries c;
    c.key = key;
    std::map<int64_t, StatsSnapshot> seconds;
    for (const auto& cell : series->cells) {
      cell->AddTotals(&c.totals);
      cell->AddSeconds(now, &seconds);
    }
    if (series->carried) {
      c.totals.Add(series->carried->totals);
      AddCarriedSeconds(*series->carried, now, kStatsWindowSeconds, &seconds);
    }
    if (c.totals.requests == 0 && c.totals.connect_errors == 0) continue;
    c.seconds = ToCarriedSeconds(seconds);
    out.series.push_back(std::move(c));
  }
  return out;
}

void StatsRegistry::Carry(const CarriedStats& stats, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : stats.series) {
    auto& slot = series_[s.key];
    if (!slot) slot = NewSeries(s.key);
    auto merged = std::make_shared<CarriedSeries>();
    merged->key = s.key;
    merged->totals = s.totals;
    std::map<int64_t, StatsSnapshot> seconds;
    AddCarriedSeconds(s, now, kStatsWindowSeconds, &seconds);
    if (slot->carried) {
      merged->totals.Add(slot->carried->totals);
      AddCarriedSeconds(*slot->carried, now, kStatsWindowSeconds, &seconds);
    }
    merged->seconds = ToCarriedSeconds(seconds);
    slot->carried = std::move(merged);
  }
}

size_t StatsRegistry::DropRetired(int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t dropped = 0;
  for (auto it = series_.begin(); it != series_.end();) {
    // use_count() == 1 is stable here: other holders only let go, and a new holder can
    // only come through Series(), which waits for mu_.
    bool idle =
        it->second.use_count() == 1 && LastCarriedSecond(*it->second) <= now - kStatsWindowSeconds;
    for (const auto& cell : it->second->cells) {
      if (!idle) break;
      idle = cell->LastSecond() <= now - kStatsWindowSeconds;
    }
    if (idle) {
      it = series_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

size_t StatsRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return series_.size();
}

void StatsRegistry::Visit(int window_seconds,
                          const std::function<void(const StatsKey&, const StatsCounters&,
                                                   const StatsSnapshot&)>& visit) const {
  int64_t now = StatsSecond();
  auto window = std::make_unique<StatsSnapshot>();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, series] : series_) {
    StatsCounters totals;
    *window = StatsSnapshot();
    for (const auto& cell : series->cells) {
      cell->AddTotals(&totals);
      cell->AddWindow(now, window_seconds, window.get());
      window->in_flight += cell->InFlight();
    }
    if (series->carried) {
      totals.Add(series->carried->totals);
      for (const auto& sec : series->carried->seconds) {
        if (sec.second > now || sec.second <= now - window_seconds) continue;
        window->counters.Add(sec.counters);
        for (const auto& [bucket, count] : sec.histogram) window->histogram[bucket] += count;
      }
    }
    visit(key, totals, *window);
  }
}

namespace {

StatsRow ToRow(const StatsKey& key, const StatsSnapshot& s, const StatsCounters& totals) {
  StatsRow row;
  row.app = key.app;
  row.slot = key.slot;
  row.version = key.version;
  row.backend = key.backend;
  row.pinned = key.pinned;
  row.requests = s.counters.requests;
  row.responses2xx = s.counters.by_class[0];
  row.responses3xx = s.counters.by_class[1];
  row.responses4xx = s.counters.by_class[2];
  row.responses5xx = s.counters.by_class[3];
  row.connectErrors = s.counters.connect_errors;
  row.timeouts = s.counters.timeouts;
  row.p50ms = s.QuantileMillis(0.50);
  row.p90ms = s.QuantileMillis(0.90);
  row.p99ms = s.QuantileMillis(0.99);
  row.maxms = static_cast<double>(s.counters.max_micros) / 1000.0;
  row.inFlight = static_cast<uint64_t>(std::max<int64_t>(s.in_flight, 0));
  row.totalRequests = totals.requests;
  row.totalErrors = totals.by_class[3];
  return row;
}

}  // namespace

RouterStats StatsRegistry::Read(Millis window) const {
  int seconds = static_cast<int>((window.count() + 999) / 1000);
  seconds = std::clamp(seconds, 1, kStatsWindowSeconds);
  RouterStats stats;
  stats.windowMillis = int64_t{seconds} * 1000;
  // Series are ordered by key, so the backends of one version are adjacent.
  struct Aggregate {
    std::unique_ptr<StatsSnapshot> window = std::make_unique<StatsSnapshot>();
    StatsCounters totals;
  };
  std::map<StatsKey, Aggregate> versions;
  Visit(seconds,
        [&](const StatsKey& key, const StatsCounters& totals, const StatsSnapshot& window) {
          if (window.counters.requests == 0 && window.counters.connect_errors == 0 &&
              window.in_flight <= 0) {
            return;
          }
          stats.rows.push_back(ToRow(key, window, totals));
          auto& aggregate = versions[StatsKey{key.app, key.slot, key.version, "", key.pinned}];
          aggregate.window->Add(window);
          aggregate.totals.requests += totals.requests;
          aggregate.totals.by_class[3] += totals.by_class[3];
        });
  for (const auto& [key, aggregate] : versions) {
    stats.rows.push_back(ToRow(key, *aggregate.window, aggregate.totals));
    for (int b = 0; b < kLatencyBuckets; ++b) {
      if (aggregate.window->histogram[b])
        stats.rows.back().latency.emplace_back(b, aggregate.window->histogram[b]);
    }
  }
  return stats;
}

}  // namespace lastgood
