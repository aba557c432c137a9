// The engine's side of the sequential judge (health/sequential_judge.h): the manifest's
// settings as the judge's options, the forecast that `apply --what-if` and the analysis step
// state, and the analysis step itself (engine/steps/analyze_sequential.cc).
#pragma once

#include <string>

#include "engine/analysis_counts.h"
#include "engine/step.h"
#include "engine/steps/step_context.h"
#include "health/sequential_judge.h"
#include "manifest/manifest.h"

namespace lastgood {

class PrometheusWatch;
class Routes;

JudgeOptions JudgeOptionsOf(const Analysis& a);

// The canary's share during canary analysis step `step.count`: the weight of the last weight
// step before it, 0..1.
double CanaryShareOf(const Step& step, const Manifest& m);

// How long a good canary should take in analysis `step` of `m` at `requests_per_second`
// (both sides; < 0: measured now, over half a second), with stable's error rate and latency
// as the router saw them over its 2 minutes.
Forecast ForecastAnalysis(Routes& routes, const Step& step, const Manifest& m,
                          const AnalysedPair& pair, double requests_per_second);

// For `apply --what-if`: " — a canary as good as stable should pass after about ..." after a
// sequential analysis step of the plan (whose version runs in `slot` of `app`); "" for any
// other step, or without a router.
std::string ForecastNote(const EngineDeps& deps, const Step& step, const Manifest& m,
                         const std::string& slot);

// The analysis step under judge: sequential, up to the verdict (checks are the caller's),
// with `prometheus` (may be null) asked alongside the judge's looks.
StepResult RunSequentialJudge(StepContext& ctx, const Step& step, const Analysis& a,
                              PrometheusWatch* prometheus);

}  // namespace lastgood
