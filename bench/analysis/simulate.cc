// bench/analysis: canary analyses simulated through the real judging code (health/ for the
// sequential judge, engine/analysis.h for the threshold judge), on seeded random streams of
// request outcomes and latencies. Prints one table row per scenario (bench/analysis/run).
//
// The stream: 1,000 requests/s, each the canary's with probability `share` (20%); the judge
// looks every 100 ms (the engine's poll) at the counts of that look, and at the latency
// histograms since the start once a second (the router's 1-second buckets), in the router's
// own histogram layout. A trial ends at a verdict or at the time limit (undecided).
//
//   analysis_sim [--trials N] [--seed S] [--only SUBSTRING]
#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/analysis.h"
#include "health/sequential_judge.h"
#include "router/latency_histogram.h"

namespace lastgood {
namespace {

constexpr double kRequestsPerSecond = 1000;
constexpr int kLooksPerSecond = 10;
constexpr int kRequestsPerLook = int(kRequestsPerSecond) / kLooksPerSecond;

// xoshiro256**: fast, and good enough for sampling.
class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) {  // splitmix64 to fill the state
      seed += 0x9e3779b97f4a7c15;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      word = z ^ (z >> 31);
    }
  }
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  double Uniform() { return double((*this)() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Draws a latency bucket in O(1) (Walker's alias method).
class LatencySampler {
 public:
  explicit LatencySampler(const std::vector<double>& p) : prob_(p.size()), alias_(p.size()) {
    size_t n = p.size();
    std::vector<double> scaled(n);
    std::vector<size_t> small, large;
    for (size_t i = 0; i < n; ++i)
      (scaled[i] = p[i] * double(n)) < 1 ? small.push_back(i) : large.push_back(i);
    while (!small.empty() && !large.empty()) {
      size_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = scaled[s], alias_[s] = l;
      scaled[l] -= 1 - scaled[s];
      if (scaled[l] < 1) large.pop_back(), small.push_back(l);
    }
    for (size_t i : large) prob_[i] = 1;
    for (size_t i : small) prob_[i] = 1;
  }
  int Draw(Rng& rng) const {
    uint64_t r = rng();
    size_t i = size_t((r >> 32) * prob_.size() >> 32);
    return double(uint32_t(r)) * 0x1.0p-32 < prob_[i] ? int(i) : int(alias_[i]);
  }

 private:
  std::vector<double> prob_;
  std::vector<size_t> alias_;
};

// A latency distribution: lognormal (median `median_ms`, p99 `p99_ms`), plus `added_ms` on the
// requests above its `added_above` quantile, as probabilities of the router's buckets.
std::vector<double> LatencyBuckets(double median_ms, double p99_ms, double added_ms,
                                   double added_above) {
  boost::math::normal normal;
  const double sigma = std::log(p99_ms / median_ms) / boost::math::quantile(normal, 0.99);
  auto cdf = [&](double ms) {  // P(X < ms) of the lognormal
    return ms <= 0 ? 0.0 : boost::math::cdf(normal, std::log(ms / median_ms) / sigma);
  };
  const double cut = added_above > 0
                         ? median_ms * std::exp(sigma * boost::math::quantile(normal, added_above))
                         : 0;
  std::vector<double> p(kLatencyBuckets, 0.0);
  for (int b = 0; b < kLatencyBuckets; ++b) {
    double lo = double(LatencyBucketLowMicros(b)) / 1000;
    double hi = lo + double(LatencyBucketWidthMicros(b)) / 1000;
    if (b == kLatencyBuckets - 1) hi = 1e300;  // the top bucket takes everything above
    // X itself below the cut, X + added_ms above it.
    double below = std::max(0.0, cdf(std::min(hi, cut)) - cdf(lo));
    double above = std::max(0.0, cdf(hi - added_ms) - cdf(std::max(lo - added_ms, cut)));
    p[b] = (added_ms > 0 ? below + above : cdf(hi) - cdf(lo));
  }
  return p;
}

// Binomial(n, p) draws for n <= kRequestsPerLook by inversion of tabulated distributions:
// a few steps for the small means of a look, where std::binomial_distribution's set-up
// dominated the whole simulation.
class BinomialSampler {
 public:
  explicit BinomialSampler(double p) : cdf_(kRequestsPerLook + 1) {
    for (int n = 0; n <= kRequestsPerLook; ++n) {
      boost::math::binomial_distribution<> d(n, p);
      for (int k = 0; k <= n; ++k) cdf_[n].push_back(boost::math::cdf(d, k));
      cdf_[n].back() = 1;
    }
  }
  uint64_t Draw(Rng& rng, uint64_t n) const {
    const auto& cdf = cdf_[n];
    double u = rng.Uniform();
    uint64_t k = 0;
    while (u > cdf[k]) ++k;
    return k;
  }

 private:
  std::vector<std::vector<double>> cdf_;
};

struct Version {
  double errorRate = 0;
  double addedMs = 0, addedAbove = 0;  // latency: + addedMs above the addedAbove quantile
};

struct Scenario {
  std::string name;
  Version stable, canary;
  // The verdict the row is about: kWorse (a bad canary), kWithin (a good one, or one worse
  // than stable but within the tolerance), kUndecided (at the tolerance's edge: either).
  JudgeVerdict expected = JudgeVerdict::kWithin;
};

struct JudgeSetup {
  std::string name;
  std::optional<JudgeOptions> sequential;  // else the threshold judge with `threshold`
  Analysis threshold;
  Millis limit{60'000};  // window + progressDeadline
  bool NeedsLatency() const {
    return sequential ? sequential->latency.has_value() : threshold.maxLatencyP99.has_value();
  }
};

struct TrialResult {
  JudgeVerdict verdict = JudgeVerdict::kUndecided;
  uint64_t canaryRequests = 0;
  int looks = 0;
};

constexpr double kMedianMs = 20, kP99Ms = 50;

class Stream {
 public:
  Stream(const Scenario& s, bool latency, double share)
      : latency_(latency),
        canary_count_(share),
        canary_errors_(s.canary.errorRate),
        stable_errors_(s.stable.errorRate) {
    if (latency) {
      stable_latency_.emplace(
          LatencyBuckets(kMedianMs, kP99Ms, s.stable.addedMs, s.stable.addedAbove));
      canary_latency_.emplace(
          LatencyBuckets(kMedianMs, kP99Ms, s.canary.addedMs, s.canary.addedAbove));
    }
  }
  // One look's requests: counts, and latencies into the histograms (when judged).
  void Look(Rng& rng, RequestCounts* canary, RequestCounts* stable, uint64_t* canary_hist,
            uint64_t* stable_hist) {
    canary->requests = canary_count_.Draw(rng, kRequestsPerLook);
    stable->requests = kRequestsPerLook - canary->requests;
    canary->errors = canary_errors_.Draw(rng, canary->requests);
    stable->errors = stable_errors_.Draw(rng, stable->requests);
    if (!latency_) return;
    for (uint64_t i = 0; i < canary->requests; ++i) ++canary_hist[canary_latency_->Draw(rng)];
    for (uint64_t i = 0; i < stable->requests; ++i) ++stable_hist[stable_latency_->Draw(rng)];
  }

 private:
  bool latency_;
  BinomialSampler canary_count_, canary_errors_, stable_errors_;
  std::optional<LatencySampler> stable_latency_, canary_latency_;
};

LatencyHistogram ToBins(const uint64_t* counts) {
  LatencyHistogram h;
  for (int b = 0; b < kLatencyBuckets; ++b) {
    if (counts[b] == 0) continue;
    double low = double(LatencyBucketLowMicros(b)) / 1000;
    h.push_back({low, low + double(LatencyBucketWidthMicros(b)) / 1000, counts[b]});
  }
  return h;
}

TrialResult RunSequential(const JudgeSetup& j, Stream& stream, Rng& rng, std::vector<uint64_t>& ch,
                          std::vector<uint64_t>& sh) {
  SequentialJudge judge(*j.sequential);
  const int max_looks = int(j.limit.count() / (1000 / kLooksPerSecond));
  TrialResult r;
  for (int look = 1; look <= max_looks; ++look) {
    RequestCounts c, s;
    stream.Look(rng, &c, &s, ch.data(), sh.data());
    r.canaryRequests += c.requests;
    r.looks = look;
    std::optional<LatencyHistogram> cl, sl;
    if (j.NeedsLatency() && look % kLooksPerSecond == 0)
      cl = ToBins(ch.data()), sl = ToBins(sh.data());
    JudgeVerdict v = judge.Look(c, s, cl ? &*cl : nullptr, sl ? &*sl : nullptr);
    if (v != JudgeVerdict::kUndecided) {
      r.verdict = v;
      return r;
    }
  }
  return r;
}

// The executor's threshold loop (engine/executor_steps.cc RunAnalyze) over the same stream:
// windows of `window`, fail fast, pass at the window's end, failureLimit failed windows.
TrialResult RunThreshold(const JudgeSetup& j, Stream& stream, Rng& rng, std::vector<uint64_t>& ch,
                         std::vector<uint64_t>& sh) {
  const Analysis& a = j.threshold;
  const int max_looks = int(j.limit.count() / (1000 / kLooksPerSecond));
  const int window_looks = int(a.window.count() / (1000 / kLooksPerSecond));
  TrialResult r;
  Measured canary, stable;
  int window_start = 0, failed = 0;
  for (int look = 1; look <= max_looks; ++look) {
    RequestCounts c, s;
    stream.Look(rng, &c, &s, ch.data(), sh.data());
    r.canaryRequests += c.requests;
    r.looks = look;
    canary.requests += c.requests, canary.errors += c.errors;
    stable.requests += s.requests, stable.errors += s.errors;
    if (j.NeedsLatency()) {
      uint64_t total = 0;
      for (int b = 0; b < kLatencyBuckets; ++b) total += ch[b];
      canary.p99ms = LatencyQuantileMicros(ch.data(), total, 0.99) / 1000;
    }
    Judgement v = Judge(a, canary, stable, look - window_start >= window_looks);
    if (v.kind == Judgement::Kind::kPass) {
      r.verdict = JudgeVerdict::kWithin;
      return r;
    }
    if (v.kind == Judgement::Kind::kFail) {
      if (++failed > a.failureLimit) {
        r.verdict = JudgeVerdict::kWorse;
        return r;
      }
      window_start = look, canary = stable = Measured();
      std::fill(ch.begin(), ch.end(), 0), std::fill(sh.begin(), sh.end(), 0);
    }
  }
  return r;
}

// "median / p95" of a sorted list.
std::string MedianP95(std::vector<double>& v, const char* format) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  char buf[64];
  std::string m = (std::snprintf(buf, sizeof buf, format, v[(v.size() - 1) / 2]), buf);
  std::string p =
      (std::snprintf(buf, sizeof buf, format, v[size_t(double(v.size() - 1) * 0.95)]), buf);
  return m + " / " + p;
}

// "12 (0.012%, at most 0.02%)": a count with its share and the 95% upper bound of the rate.
std::string Rate(uint64_t k, uint64_t n) {
  double upper =
      boost::math::binomial_distribution<>::find_upper_bound_on_p(double(n), double(k), 0.05);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lu (%.3f%%, <= %.3f%%)", (unsigned long)k,
                100.0 * double(k) / double(n), upper * 100);
  return buf;
}

void RunRow(const Scenario& s, const JudgeSetup& j, int trials, uint64_t seed) {
  Rng rng(seed);
  Stream stream(s, j.NeedsLatency(), 0.2);
  std::vector<uint64_t> ch(kLatencyBuckets), sh(kLatencyBuckets);
  uint64_t worse = 0, within = 0, undecided = 0;
  std::vector<double> requests, seconds;  // to the verdict the row is about
  for (int t = 0; t < trials; ++t) {
    std::fill(ch.begin(), ch.end(), 0), std::fill(sh.begin(), sh.end(), 0);
    TrialResult r =
        j.sequential ? RunSequential(j, stream, rng, ch, sh) : RunThreshold(j, stream, rng, ch, sh);
    (r.verdict == JudgeVerdict::kWorse    ? worse
     : r.verdict == JudgeVerdict::kWithin ? within
                                          : undecided)++;
    bool counted = s.expected == JudgeVerdict::kUndecided ? r.verdict != JudgeVerdict::kUndecided
                                                          : r.verdict == s.expected;
    if (counted) {
      requests.push_back(double(r.canaryRequests));
      seconds.push_back(double(r.looks) / kLooksPerSecond);
    }
  }
  std::printf("| %-40s | %-25s | %-28s | %-28s | %-9lu | %-15s | %-11s |\n", s.name.c_str(),
              j.name.c_str(), Rate(worse, trials).c_str(), Rate(within, trials).c_str(),
              (unsigned long)undecided, MedianP95(requests, "%.0f").c_str(),
              MedianP95(seconds, "%.1f").c_str());
  std::fflush(stdout);
}

Analysis ThresholdOf(Millis window, int min_requests, double max_error_rate,
                     std::optional<Millis> max_p99) {
  Analysis a;
  a.window = window, a.minRequests = min_requests, a.maxErrorRate = max_error_rate;
  a.maxLatencyP99 = max_p99;
  return a;
}

int Main(int argc, char** argv) {
  int trials = 100'000;
  uint64_t seed = 16;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--trials"))
      trials = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed"))
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--only"))
      only = argv[i + 1];
  }
  JudgeOptions errors_only;  // the issue's settings: falseAlarmRate 0.001, tolerance 2 points
  JudgeOptions with_latency = errors_only;
  with_latency.latency = LatencyTolerance{0.2, 0};
  const JudgeSetup sequential{"sequential", errors_only, {}, Millis(60'000)};
  const JudgeSetup sequential_latency{"sequential, latency 20%", with_latency, {}, Millis(60'000)};
  // examples/canary.yaml's analysis (with its progressDeadline 30 s), and the issue's
  // reproduction (window 2s, minRequests 50, maxErrorRate 0.05).
  const JudgeSetup canary_yaml{"threshold (canary.yaml)", std::nullopt,
                               ThresholdOf(Millis(5000), 50, 0.01, Millis(250)), Millis(35'000)};
  const JudgeSetup issue_yaml{"threshold (5%, 2s window)", std::nullopt,
                              ThresholdOf(Millis(2000), 50, 0.05, std::nullopt), Millis(32'000)};

  auto good = [](double rate) {
    char name[64];
    std::snprintf(name, sizeof name, "good canary, both failing %g%%", rate * 100);
    return Scenario{name, {rate}, {rate}, JudgeVerdict::kWithin};
  };
  auto bad = [](const char* name, double stable, double canary) {
    return Scenario{name, {stable}, {canary}, JudgeVerdict::kWorse};
  };
  Scenario tail{"+50 ms p99 (slowest 2% +50 ms)", {0}, {0, 50, 0.98}, JudgeVerdict::kWorse};
  Scenario slower{"+50 ms on every request", {0}, {0, 50, 0}, JudgeVerdict::kWorse};
  Scenario edge{"edge: 3% beside 1% (+2 points)", {0.01}, {0.03}, JudgeVerdict::kUndecided};
  Scenario inside{"2x: 2% beside 1% (within 2 points)", {0.01}, {0.02}, JudgeVerdict::kWithin};

  std::vector<std::pair<Scenario, JudgeSetup>> rows;
  for (double rate : {0.0, 0.01, 0.02, 0.05}) rows.push_back({good(rate), sequential});
  rows.push_back({edge, sequential});
  rows.push_back({inside, sequential});
  rows.push_back({bad("2x: 10% beside 5%", 0.05, 0.10), sequential});
  rows.push_back({bad("5x: 5% beside 1%", 0.01, 0.05), sequential});
  rows.push_back({bad("10% beside 1%", 0.01, 0.10), sequential});
  rows.push_back({bad("+10 points: 11% beside 1%", 0.01, 0.11), sequential});
  rows.push_back({good(0.01), sequential_latency});
  rows.push_back({tail, sequential_latency});
  rows.push_back({slower, sequential_latency});
  for (const auto* t : {&canary_yaml, &issue_yaml}) {
    for (double rate : {0.0, 0.01, 0.02, 0.05}) rows.push_back({good(rate), *t});
    rows.push_back({bad("10% beside 1%", 0.01, 0.10), *t});
    rows.push_back({bad("+10 points: 11% beside 1%", 0.01, 0.11), *t});
    if (t == &canary_yaml) rows.push_back({tail, *t}), rows.push_back({slower, *t});
  }

  std::printf(
      "Simulated: %d trials per row, seed %lu; 1000 requests/s, canary share 20%%, a look "
      "every 100 ms; latency lognormal, median %.0f ms, p99 %.0f ms\n\n",
      trials, (unsigned long)seed, kMedianMs, kP99Ms);
  std::printf(
      "failed, passed: how many trials (share; 95%% upper bound of the rate). requests, "
      "seconds: canary requests and time to the verdict the row is about (failed for a "
      "bad canary, passed for a good one, either at the edge), median / p95.\n\n");
  std::printf("| %-40s | %-25s | %-28s | %-28s | %-9s | %-15s | %-11s |\n", "canary", "judge",
              "failed", "passed", "undecided", "requests", "seconds");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(42, '-').c_str(),
              std::string(27, '-').c_str(), std::string(30, '-').c_str(),
              std::string(30, '-').c_str(), std::string(11, '-').c_str(),
              std::string(17, '-').c_str(), std::string(13, '-').c_str());
  uint64_t row_seed = seed;
  for (const auto& [scenario, judge] : rows) {
    ++row_seed;
    if (!only.empty() && (scenario.name + " " + judge.name).find(only) == std::string::npos)
      continue;
    RunRow(scenario, judge, trials, row_seed);
  }
  std::printf("\n(%.0f s of CPU)\n", double(std::clock()) / CLOCKS_PER_SEC);
  return 0;
}

}  // namespace
}  // namespace lastgood

int main(int argc, char** argv) { return lastgood::Main(argc, argv); }
