// The sequential judge's latency test: is the canary's latency quantile (p99) worse than the
// stable version's by more than a tolerance, or within it? It compares the two histograms,
// not two single p99 values: each histogram gives an always-valid confidence sequence of its
// quantile, and the verdict needs the two to be apart. Pure functions; thread-safe.
//
// Why a quantile and not a test of whole distributions (Mann-Whitney, as Kayenta does): a
// release that slows 2% of requests by a second moves p99 a lot and a rank test hardly at all,
// and "p99 may be 20% slower than stable's" is what a release engineer can say and check.
//
// The sequence of a quantile Q (exact for continuous latencies, any distribution): the number
// B of requests at or below Q is binomial(N, q) whatever the distribution, so a mixture
// martingale for B's proportion, M(b) = B(b+a1, N-b+a2)/B(a1,a2) / (q^b (1-q)^(N-b)) with a
// Beta(a1, a2) prior centred on q, gives ranks [lo, hi] that hold B at every N with
// probability 1 - alpha; then X_(lo) <= Q < X_(hi+1), read off the histogram at the edges of
// the bins those ranks fall in (so a bin's width only ever widens the bounds).
#pragma once

#include <cstdint>
#include <vector>

#include "health/error_rate_judge.h"

namespace lastgood {

struct LatencyBin {
  double lowMs = 0, highMs = 0;
  uint64_t count = 0;
};
// Ascending, not overlapping. Hosts merge by adding the counts of equal bins.
using LatencyHistogram = std::vector<LatencyBin>;

// The canary may be up to stable's quantile * (1 + share) + addedMs.
struct LatencyTolerance {
  double share = 0;
  double addedMs = 0;
  double Limit(double stable_ms) const { return stable_ms * (1 + share) + addedMs; }
};

struct QuantileBounds {
  double lowerMs = 0;     // 0: nothing known yet
  double upperMs = 0;     // +infinity: nothing known yet
  double observedMs = 0;  // the histogram's own quantile (a bin's middle); 0 when empty
  uint64_t requests = 0;
};

// The confidence sequence of the `quantile` (0 < q < 1) of the latencies in `h`, at 1 - alpha.
QuantileBounds QuantileConfidence(const LatencyHistogram& h, double quantile, double alpha);

struct LatencyEvidence {
  JudgeVerdict verdict = JudgeVerdict::kUndecided;
  QuantileBounds canary, stable;
};

// kWorse when the canary's lower bound is above the limit of stable's upper bound; kWithin
// when the canary's upper bound is below the limit of stable's lower bound. Each bound holds
// with 1 - alpha/2, so a verdict is wrong with a probability of at most alpha.
LatencyEvidence JudgeLatency(const LatencyHistogram& canary, const LatencyHistogram& stable,
                             double quantile, const LatencyTolerance& tolerance, double alpha);

// About how many canary requests a canary as fast as stable needs to be passed when the canary
// takes `canary_share` (0..1) of the requests: the least n for which histograms of the shape
// of `shape` (stable's, as seen), scaled to n and to stable's share, would pass. 0 when `shape`
// is empty or it would not pass within 10^8 requests.
uint64_t ExpectedRequestsToPassLatency(const LatencyHistogram& shape, double canary_share,
                                       double quantile, const LatencyTolerance& tolerance,
                                       double alpha);

}  // namespace lastgood
