// Analysis: the verdict on a canary (or a bluegreen preview) from the router's own
// measurements of it and of the stable version over the same window (issue 4).
//
// Fail fast, pass slow: a window fails as soon as the canary has served minRequests and a
// limit is broken; it passes only once the whole window has passed with minRequests served
// and every limit kept. Too little data is never a pass. Pure functions: the step that polls
// the router and runs the checks is in the executor.
#pragma once

#include <cstdint>
#include <string>

#include "manifest/manifest.h"
#include "router/stats.h"

namespace lastgood {

// How long an analysis waits for a router that does not answer before it fails: a worker
// that crashed is replaced within milliseconds, and meanwhile its control socket refuses.
inline constexpr Millis kRouterSilenceLimit{5000};

struct Measured {
  uint64_t requests = 0;
  uint64_t errors = 0;  // 5xx answers, upstream connect errors and timeouts
  double p99ms = 0;     // the worst p99 among the rows summed
  double ErrorRate() const { return requests ? double(errors) / double(requests) : 0.0; }
};

// The per-version aggregate rows of `app`/`slot`: of `version` alone, or (others = true) of
// every version but it.
Measured Measure(const RouterStats& stats, const std::string& app, const std::string& slot,
                 int version, bool others);

struct Judgement {
  enum class Kind { kWait, kPass, kFail };
  Kind kind = Kind::kWait;
  std::string detail;  // the measured numbers, and the limits broken if any
};

// `window_ended`: the analysis window has fully passed.
Judgement Judge(const Analysis& analysis, const Measured& canary, const Measured& stable,
                bool window_ended);

}  // namespace lastgood
