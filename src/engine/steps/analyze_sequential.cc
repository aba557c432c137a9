// The analysis step under `judge: sequential` (health/sequential_judge.h): looks at the
// router's cumulative counters every 100 ms and at the latency histograms every second, feeds
// the judge what each side counted since the last look, and ends as soon as it decides —
// or, undecided, at window + progressDeadline. The analysis' Prometheus queries, if any, are
// asked alongside (at most once a second, engine/analysis_prometheus.h): a query beyond its
// limit fails the canary as soon as it is seen, and a pass needs them all within. Says at its start
// how long a good canary should take at the traffic seen, and warns when that is beyond the limit.
#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/analysis.h"
#include "engine/analysis_counts.h"
#include "engine/analysis_prometheus.h"
#include "engine/analysis_sequential.h"
#include "engine/routes.h"
#include "history/reasons.h"

namespace lastgood {
namespace {

constexpr Millis kLook{100};
constexpr Millis kLatencyLook{1000};
// A forecast's traffic: the requests both sides take, counted over half a second (before an
// analysis, for --what-if) or over the analysis' first second; stable's error rate and latency
// over the router's whole window (2 minutes).
constexpr Millis kRateSample{500};
constexpr Millis kForecastAfter{1000};
// A bluegreen preview's share when nothing was seen of it: what bench/analysis assumes.
constexpr double kShareUnknown = 0.2;

// Both sides' requests per second now, from the cumulative counters half a second apart.
double MeasureRequestsPerSecond(Routes& routes, const AnalysedPair& pair) {
  auto before = routes.Stats(Millis(1000));
  if (!before.ok()) return 0;
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(kRateSample);
  auto after = routes.Stats(Millis(1000));
  if (!after.ok()) return 0;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  LookCounter counter(pair);
  counter.Start(*before);
  RequestCounts canary, stable;
  counter.Next(*after, &canary, &stable);
  return double(canary.requests + stable.requests) / seconds;
}

// "~1500 canary requests, ~7.5 s": the forecast, short, for every progress line.
std::string ShortForecast(const Forecast& f) {
  if (f.canaryRequests == 0) return "a good canary would not be shown within the tolerance";
  std::string text =
      "a good canary needs ~" + std::to_string(f.canaryRequests) + " canary requests";
  if (f.seconds >= 0) text += " (~" + std::to_string(int(f.seconds + 0.5)) + " s)";
  return text;
}

}  // namespace

JudgeOptions JudgeOptionsOf(const Analysis& a) {
  JudgeOptions o;
  o.falseAlarmRate = a.falseAlarmRate;
  o.errorRateTolerance = a.tolerance.errorRate;
  if (a.tolerance.latencyPercent)
    o.latency = LatencyTolerance{*a.tolerance.latencyPercent / 100, 0};
  else if (a.tolerance.latencyAdded)
    o.latency = LatencyTolerance{0, double(a.tolerance.latencyAdded->count())};
  return o;
}

double CanaryShareOf(const Step& step, const Manifest& m) {
  int weight = 0;
  for (int i = 0; i < step.count && i < int(m.strategy.canarySteps.size()); ++i) {
    const CanaryStep& cs = m.strategy.canarySteps[i];
    if (cs.kind == CanaryStep::Kind::kWeight) weight = cs.weight;
  }
  return weight / 100.0;
}

Forecast ForecastAnalysis(Routes& routes, const Step& step, const Manifest& m,
                          const AnalysedPair& pair, double requests_per_second) {
  const Analysis* a = AnalysisOf(step, m);
  if (!a) return Forecast();
  auto whole = routes.Stats(kMaxAnalysisWindow);
  TrafficSeen seen = whole.ok() ? TrafficOf(*whole, pair) : TrafficSeen();
  if (requests_per_second < 0) requests_per_second = MeasureRequestsPerSecond(routes, pair);
  // A canary's share is the weight its plan gives it (it may have just been set); a bluegreen
  // preview's is what the preview listener took beside production lately, if anything.
  double share = step.count >= 0 ? CanaryShareOf(step, m) : seen.canaryShare;
  if (share <= 0 || share >= 1) share = kShareUnknown;
  LatencyHistogram latency = whole.ok() ? LatencyOf(*whole, pair, -1) : LatencyHistogram();
  return ForecastPass(JudgeOptionsOf(*a), std::max(0.0, seen.stableErrorRate), share,
                      requests_per_second, latency, a->window + m.progressDeadline);
}

std::string ForecastNote(const EngineDeps& deps, const Step& step, const Manifest& m,
                         const std::string& slot) {
  const Analysis* a = AnalysisOf(step, m);
  if (!a || a->judge != Analysis::Judge::kSequential || !deps.routes) return "";
  const AnalysedPair pair{m.app, step.count < 0 ? kPreviewSlot : slot, slot, step.version};
  return " — " + ForecastAnalysis(*deps.routes, step, m, pair, -1).text;
}

StepResult RunSequentialJudge(StepContext& ctx, const Step& step, const Analysis& a,
                              PrometheusWatch* prometheus) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  const bool preview = step.count < 0;
  const AnalysedPair pair{d.app, preview ? kPreviewSlot : d.slot, d.slot, d.version};
  const JudgeOptions options = JudgeOptionsOf(a);
  const Millis limit = a.window + m.progressDeadline;

  ctx.Progress("judging the canary against stable");
  ctx.Commit();

  // Every backend with counts is in the router's whole window: the start of the counting.
  auto first = deps.routes->Stats(kMaxAnalysisWindow);
  if (!first.ok())
    return StepResult::Failed("cannot read the router's stats: " + first.error().message);
  LookCounter counter(pair);
  counter.Start(*first);
  SequentialJudge judge(options);
  const auto started = deps.clock->Steady();
  Millis next_latency = kLatencyLook;
  Millis silent_since{-1};  // since when the router has not answered, -1: it answers
  std::string expected;     // the forecast, once the first second's traffic is seen
  for (;;) {
    if (!ctx.Sleep(kLook)) return {ctx.Interrupted(), ""};
    const Millis elapsed = std::chrono::duration_cast<Millis>(deps.clock->Steady() - started);
    // Latency: the histograms of the whole analysis so far (whole seconds, at most the
    // router's 2 minutes), once a second; counts: a 1-second answer is enough.
    const bool latency = options.latency && elapsed >= next_latency;
    Millis ask = latency ? std::min(kMaxAnalysisWindow, Millis((elapsed.count() / 1000 + 1) * 1000))
                         : Millis(1000);
    auto stats = deps.routes->Stats(ask);
    if (!stats.ok()) {
      // A worker replaced after a crash answers again within milliseconds: wait for it, a
      // bounded time (kRouterSilenceLimit); its counts start again, which LookCounter knows.
      if (stats.error().code == ErrorCode::kUnavailable && elapsed < limit &&
          (silent_since.count() < 0 || elapsed - silent_since < kRouterSilenceLimit)) {
        if (silent_since.count() < 0) silent_since = elapsed;
        ctx.Progress("waiting for the router to answer: " + stats.error().message);
        continue;
      }
      return StepResult::Failed("cannot read the router's stats: " + stats.error().message);
    }
    silent_since = Millis(-1);
    RequestCounts canary, stable;
    counter.Next(*stats, &canary, &stable);
    LatencyHistogram canary_latency, stable_latency;
    if (latency) {
      canary_latency = LatencyOf(*stats, pair, 1);
      stable_latency = LatencyOf(*stats, pair, -1);
      next_latency = elapsed + kLatencyLook;
    }
    JudgeVerdict v = judge.Look(canary, stable, latency ? &canary_latency : nullptr,
                                latency ? &stable_latency : nullptr);
    if (v == JudgeVerdict::kWorse) {
      return StepResult::Failed(std::string(kReasonAnalysisFailed) + ": " +
                                judge.Explain(elapsed).detail);
    }
    // The queries' verdict, worded as under the threshold judge: a final one (Prometheus
    // cannot be asked, or refused a query) alone, a broken limit before what the judge saw.
    std::string queries;
    bool queries_pass = true;
    if (prometheus) {
      PrometheusVerdict q = prometheus->Look(deps.clock->Steady());
      if (q.final) return StepResult::Failed(std::string(kReasonAnalysisFailed) + ": " + q.detail);
      if (q.kind == PrometheusVerdict::Kind::kFail) {
        return StepResult::Failed(std::string(kReasonAnalysisFailed) + ": " + q.detail + " — " +
                                  judge.Explain(elapsed).detail);
      }
      queries_pass = q.kind == PrometheusVerdict::Kind::kPass;
      queries = "; " + q.detail;
    }
    if (v == JudgeVerdict::kWithin && queries_pass &&
        judge.errorRate().canary().requests >= static_cast<uint64_t>(a.minRequests)) {
      return StepResult::Ok("passed: " + judge.Explain(elapsed).detail + queries);
    }
    if (elapsed >= limit) {
      return StepResult::Failed(
          std::string(kReasonAnalysisUndecided) + " within " + FormatDuration(limit) +
          " (window + progressDeadline): " + judge.Explain(elapsed).detail + queries);
    }
    if (expected.empty() && elapsed >= kForecastAfter) {
      const auto& seen = judge.errorRate();
      double rate =
          double(seen.canary().requests + seen.stable().requests) * 1000 / double(elapsed.count());
      Forecast f = ForecastAnalysis(*deps.routes, step, m, pair, rate);
      expected = f.beyondLimit ? "warning: " + f.text : ShortForecast(f);
    }
    ctx.Progress(judge.Explain(elapsed).detail + queries +
                 (expected.empty() ? "" : "; " + expected));
  }
}

}  // namespace lastgood
