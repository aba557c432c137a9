#include "health/sequential_judge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace lastgood {
namespace {

template <typename... Args>
std::string Format(const char* format, Args... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

// A share in points, signed when asked: 0.0123 → "1.2", "+1.2".
std::string Points(double share, bool sign = false) {
  return Format(sign ? "%+.1f" : "%.1f", share * 100 + 0.0);
}

std::string Ms(double ms) { return std::isfinite(ms) ? Format("%.1f ms", ms) : "unknown"; }

std::string Seconds(Millis elapsed) { return Format("%.1f s", double(elapsed.count()) / 1000); }

std::string ToleranceText(const LatencyTolerance& t) {
  std::string text;
  if (t.share > 0) text = Format("%g%%", t.share * 100);
  if (t.addedMs > 0) text += (text.empty() ? "" : " + ") + Ms(t.addedMs);
  return text.empty() ? "0%" : text;
}

std::string DescribeErrors(const JudgeOptions& o, const ErrorRateTest& e,
                           const std::string& confidence) {
  std::string text = "canary " + std::to_string(e.canary().errors) + " of " +
                     std::to_string(e.canary().requests) + " failed, stable " +
                     std::to_string(e.stable().errors) + " of " +
                     std::to_string(e.stable().requests) + ": ";
  if (e.canary().requests == 0 || e.stable().requests == 0)
    return text + "waiting for requests to both";
  const std::string tolerance =
      "the " + Format("%g", std::round(o.errorRateTolerance * 1000) / 10) + "-point tolerance";
  const double d = e.difference();
  const std::string how = d > 0   ? "worse by " + Points(d) + " points"
                          : d < 0 ? "better by " + Points(-d) + " points"
                                  : "as good";
  switch (e.verdict()) {
    case JudgeVerdict::kWorse:
      return text + how + ", beyond " + tolerance + " with " + confidence + " confidence";
    case JudgeVerdict::kWithin:
      return text + how + ", within " + tolerance + " with " + confidence + " confidence";
    case JudgeVerdict::kUndecided:
      break;
  }
  // How far each answer's evidence has come, in the log scale the threshold is on.
  const double needed = std::log(1 / o.ErrorRateAlpha());
  auto toward = [&](double evidence) {
    return int(std::clamp(std::log(evidence) / needed, 0.0, 1.0) * 100);
  };
  return text + how + " so far, not yet shown beyond or within " + tolerance + " with " +
         confidence + " confidence (evidence " + std::to_string(toward(e.evidenceWorse())) +
         "% of the way to failing, " + std::to_string(toward(e.evidenceWithin())) + "% to passing)";
}

std::string DescribeLatency(const JudgeOptions& o, const LatencyEvidence& e,
                            const std::string& confidence) {
  const auto& t = *o.latency;
  std::string text =
      "canary p99 " + Ms(e.canary.observedMs) + ", stable p99 " + Ms(e.stable.observedMs) + ": ";
  switch (e.verdict) {
    case JudgeVerdict::kWorse:
      return text + "slower than the " + ToleranceText(t) + " tolerance allows with " + confidence +
             " confidence (canary at least " + Ms(e.canary.lowerMs) + ", stable at most " +
             Ms(e.stable.upperMs) + ")";
    case JudgeVerdict::kWithin:
      return text + "within the " + ToleranceText(t) + " tolerance with " + confidence +
             " confidence (canary at most " + Ms(e.canary.upperMs) + ", stable at least " +
             Ms(e.stable.lowerMs) + ")";
    case JudgeVerdict::kUndecided:
      break;
  }
  return text + "not yet shown beyond or within the " + ToleranceText(t) + " tolerance";
}

}  // namespace

std::string ConfidenceText(double alpha) {
  double percent = (1 - alpha) * 100;
  for (int digits = 0; digits < 6; ++digits) {
    std::string text = Format("%.*f", digits, percent);
    if (std::fabs(std::stod(text) - percent) < 1e-9 * 100) return text + "%";
  }
  return Format("%.6f%%", percent);
}

SequentialJudge::SequentialJudge(const JudgeOptions& options)
    : options_(options), errors_(options.errorRateTolerance, options.ErrorRateAlpha()) {}

JudgeVerdict SequentialJudge::Look(const RequestCounts& canary, const RequestCounts& stable,
                                   const LatencyHistogram* canary_latency,
                                   const LatencyHistogram* stable_latency) {
  if (verdict() != JudgeVerdict::kUndecided) return verdict();
  errors_.Add(canary, stable);
  if (options_.latency && canary_latency && stable_latency) {
    latency_ = JudgeLatency(*canary_latency, *stable_latency, kJudgedQuantile, *options_.latency,
                            options_.falseAlarmRate / 2);
  }
  return verdict();
}

JudgeVerdict SequentialJudge::LatencyVerdict() const {
  if (!options_.latency) return JudgeVerdict::kWithin;  // not judged: never in the way
  return latency_ ? latency_->verdict : JudgeVerdict::kUndecided;
}

JudgeVerdict SequentialJudge::verdict() const {
  JudgeVerdict latency = LatencyVerdict();
  if (errors_.verdict() == JudgeVerdict::kWorse || latency == JudgeVerdict::kWorse)
    return JudgeVerdict::kWorse;
  if (errors_.verdict() == JudgeVerdict::kWithin && latency == JudgeVerdict::kWithin)
    return JudgeVerdict::kWithin;
  return JudgeVerdict::kUndecided;
}

SequentialVerdict SequentialJudge::Explain(Millis elapsed) const {
  const JudgeOptions& o = options_;
  SequentialVerdict v;
  v.verdict = verdict();
  v.latency = latency_;
  const double log_needed = std::log(1 / o.ErrorRateAlpha());
  v.towardWorse = std::clamp(std::log(errors_.evidenceWorse()) / log_needed, 0.0, 1.0);
  v.towardWithin = std::clamp(std::log(errors_.evidenceWithin()) / log_needed, 0.0, 1.0);
  // The words lead with what decided: the failing measure first.
  std::string words = DescribeErrors(o, errors_, ConfidenceText(o.ErrorRateAlpha()));
  if (o.latency) {
    std::string lat = latency_ ? DescribeLatency(o, *latency_, ConfidenceText(o.falseAlarmRate / 2))
                               : "latency: no histograms yet";
    bool latency_first =
        LatencyVerdict() == JudgeVerdict::kWorse && errors_.verdict() != JudgeVerdict::kWorse;
    words = latency_first ? lat + "; " + words : words + "; " + lat;
  }
  v.detail = words + ", after " + Seconds(elapsed);
  return v;
}

Forecast ForecastPass(const JudgeOptions& o, double stable_error_rate, double canary_share,
                      double requests_per_second, const LatencyHistogram& stable_latency,
                      Millis limit) {
  Forecast f;
  // Looks every 100 ms: the canary requests of one look at the traffic seen (20 if none).
  double per_look = requests_per_second > 0 ? requests_per_second * canary_share / 10 : 20;
  f.canaryRequests = ExpectedRequestsToPass(stable_error_rate, canary_share, o.errorRateTolerance,
                                            o.ErrorRateAlpha(), per_look);
  if (o.latency && f.canaryRequests > 0) {
    uint64_t latency = ExpectedRequestsToPassLatency(stable_latency, canary_share, kJudgedQuantile,
                                                     *o.latency, o.falseAlarmRate / 2);
    f.canaryRequests = latency == 0 ? 0 : std::max(f.canaryRequests, latency);
  }
  if (f.canaryRequests == 0) {
    f.text =
        "a canary as good as stable would not be shown within the tolerance in any time "
        "this analysis can take";
    f.beyondLimit = true;
    return f;
  }
  f.text = "a canary as good as stable should pass after about " +
           std::to_string(f.canaryRequests) + " canary requests";
  double canary_rate = requests_per_second * canary_share;
  if (canary_rate <= 0) {
    f.text += " (no traffic seen yet, so no time can be said)";
    return f;
  }
  f.seconds = double(f.canaryRequests) / canary_rate;
  f.beyondLimit = f.seconds * 1000 > double(limit.count());
  f.text += Format(", %.1f s at the %.0f canary requests/s seen", f.seconds, canary_rate);
  if (f.beyondLimit) {
    f.text += "; that is beyond the analysis' limit of " + FormatDuration(limit) +
              ": give more traffic or a larger weight, a longer window or progressDeadline, or "
              "a wider tolerance";
  }
  return f;
}

}  // namespace lastgood
