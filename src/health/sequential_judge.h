// The sequential judge (manifest `analysis: { judge: sequential }`): the canary against the
// stable version it runs beside, on the router's counts and latency histograms of the same
// moments, asked as often as new counts arrive. It fails as soon as the canary is worse than
// stable by more than the tolerance with the confidence 1 - falseAlarmRate, and passes as soon
// as it is shown to be within it; until then it is undecided. Error rate and latency are
// judged separately (health/error_rate_judge.h, health/latency_judge.h), each with half of the
// false-alarm rate when both are judged; either one worse fails, both within pass.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/duration.h"
#include "health/error_rate_judge.h"
#include "health/latency_judge.h"

namespace lastgood {

inline constexpr double kJudgedQuantile = 0.99;

// The defaults are the manifest's (manifest/manifest.h, docs/manifest.md).
struct JudgeOptions {
  double falseAlarmRate = 0.001;  // 0 < alpha < 1
  double errorRateTolerance = 0.02;
  std::optional<LatencyTolerance> latency;  // latency is judged only when given
  double ErrorRateAlpha() const { return latency ? falseAlarmRate / 2 : falseAlarmRate; }
};

// What the judge has seen, for people: its verdict and the evidence in words.
struct SequentialVerdict {
  JudgeVerdict verdict = JudgeVerdict::kUndecided;
  // e.g. "canary 14 of 120 failed, stable 9 of 480: worse by 9.8 points, beyond the 2-point
  // tolerance with 99.9% confidence, after 1.4 s".
  std::string detail;
  // Of the error rate: how far each answer's evidence has come, 0..1 (1: that verdict).
  double towardWorse = 0, towardWithin = 0;
  std::optional<LatencyEvidence> latency;  // when latency is judged and histograms were seen
};

// One analysis: looks at the router's counts as they come, and gives its verdict after each.
// Not thread-safe.
class SequentialJudge {
 public:
  explicit SequentialJudge(const JudgeOptions& options);

  // A look: the requests counted since the previous look (sums over hosts, if several), and,
  // when new ones were read, the latency histograms of both since the analysis began
  // (nullptr: the last ones still stand). Once decided, the verdict stays.
  JudgeVerdict Look(const RequestCounts& canary, const RequestCounts& stable,
                    const LatencyHistogram* canary_latency, const LatencyHistogram* stable_latency);
  JudgeVerdict verdict() const;
  // The verdict with its evidence in words; `elapsed`: since the analysis began.
  SequentialVerdict Explain(Millis elapsed) const;

  const ErrorRateTest& errorRate() const { return errors_; }

 private:
  JudgeVerdict LatencyVerdict() const;

  const JudgeOptions options_;
  ErrorRateTest errors_;
  std::optional<LatencyEvidence> latency_;
};

// How long a canary exactly as good as stable should take to be passed.
struct Forecast {
  uint64_t canaryRequests = 0;  // 0: not within 10^8 requests
  double seconds = -1;          // -1: no traffic seen, so no time can be said
  bool beyondLimit = false;     // the time exceeds `limit`
  std::string text;             // "a canary as good as stable should pass after about 1500 canary
                                // requests, 7.5 s at the 200 canary requests/s seen"
};
// `stable_latency`: the latency stable shows now (its shape is what the canary's is compared
// with); needed only when latency is judged. `canary_share` 0..1; `requests_per_second`: the
// route's traffic (canary + stable).
Forecast ForecastPass(const JudgeOptions& options, double stable_error_rate, double canary_share,
                      double requests_per_second, const LatencyHistogram& stable_latency,
                      Millis limit);

// "99.9%" for alpha 0.001: the confidence as people write it.
std::string ConfidenceText(double alpha);

}  // namespace lastgood
