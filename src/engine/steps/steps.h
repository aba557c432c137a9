// The steps of a plan, one function per kind of step (engine/step.h), each in its own file
// here. Every step is idempotent: it looks at what is there and does only what is missing,
// so that a step re-run after a crash ends where a single run would have.
//
// Called by the executor (engine/executor.h) on the deployment's worker thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/step.h"
#include "engine/steps/step_context.h"

namespace lastgood {

// instances.cc: the release directory (kPrepare), N ready instances (kStart), other
// versions' instances down to N (kStopOld), the bake (kBake), and a swap's sticky settings
// (kSettings).
StepResult RunPrepare(StepContext& ctx, const Step& step);
StepResult RunStart(StepContext& ctx, const Step& step);
StepResult RunStopOld(StepContext& ctx, const Step& step);
StepResult RunBake(StepContext& ctx, const Step& step);
// fleet_gate.cc: a fleet wave's gate (a bake step of the whole wave): its hosts' instances
// healthy for the bake, watched at once.
StepResult RunFleetBake(StepContext& ctx, const Step& step);
StepResult RunSettings(StepContext& ctx, const Step& step);
// Which version's instances a deployment keeps warm instead of stopping (0: none), and until
// when (epoch millis).
int KeepWarm(const Deployment& d, const Manifest& m);
int64_t WarmUntil(const EngineDeps& deps, const Manifest& m);

// hook.cc: the manifest's hook `step.name`; only a failing preDeploy fails the step.
StepResult RunHook(StepContext& ctx, const Step& step);
// What every command a deployment runs (hooks, checks, the smoke test) is told.
std::vector<std::pair<std::string, std::string>> CommandEnv(const Deployment& d, int version,
                                                            const std::string& slot);

// weight.cc: the canary's share of the slot's requests, in force at the router.
StepResult RunWeight(StepContext& ctx, const Step& step);
// pause.cc: a timed pause, or one until `lastgood resume`.
StepResult RunPause(StepContext& ctx, const Step& step);
// analyze.cc: the canary's (or bluegreen preview's) analysis on live traffic, and its checks.
StepResult RunAnalyze(StepContext& ctx, const Step& step);
// smoke.cc: bluegreen's smoke test against the preview slot.
StepResult RunSmoke(StepContext& ctx, const Step& step);
// warmup.cc: a swap's warm-up request answered by every instance about to go live.
StepResult RunWarmup(StepContext& ctx, const Step& step);
// take_warm.cc: a version's warm instances take the slot's traffic in one table change.
StepResult RunTakeWarm(StepContext& ctx, const Step& step);
// switch.cc: two slots exchange places in the store, then at the router.
StepResult RunSwitch(StepContext& ctx, const Step& step);
// finish.cc: the slot's record says what it runs; leftovers stopped; a swap's phase marked.
StepResult RunFinish(StepContext& ctx, const Step& step);

}  // namespace lastgood
