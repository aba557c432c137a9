// The analysis step: polls the router's measurements of the canary (or the bluegreen
// preview) and of the stable version, judges each window (engine/analysis.h), runs the
// analysis' checks once the numbers pass, and fails the step — which rolls the deployment
// back by its policy — when a window fails beyond the tolerance or no verdict comes in time.
#include <algorithm>

#include "engine/analysis.h"
#include "engine/analysis_prometheus.h"
#include "engine/analysis_sequential.h"
#include "engine/confine.h"
#include "engine/host_scope.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/secret_env.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"
#include "health/probe.h"
#include "history/reasons.h"
#include "hooks/hook_runner.h"

namespace lastgood {
namespace {

constexpr Millis kAnalysisPoll{100};
constexpr const char* kNothingToCompareWith =
    "no host serves the previous version any more: judged against the limits alone";

// The analysis' checks: commands, and HTTP requests to every ready instance of the version.
StepResult RunChecks(StepContext& ctx, const Analysis& a) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  auto instances = deps.store->ListInstances(d.app);
  if (!instances.ok()) return StepResult::Failed(instances.error().message);
  auto release = ReleaseDirFor(deps, d.app, d.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  for (const auto& check : a.checks) {
    if (check.kind == AnalysisCheck::Kind::kExec) {
      HookRun run;
      run.name = "check";
      run.command = check.command;
      run.timeout = check.timeout;
      run.env = CommandEnv(d, d.version, d.slot);
      if (auto s = AddAppEnv(deps, d.app, ctx.manifest(), &run.env); !s.ok())
        return StepResult::Failed("check could not start: " + s.error().message);
      run.cwd = *release;
      auto box = SandboxFor(deps, ctx.manifest(), *release, d.app + " check");
      if (!box.ok()) return StepResult::Failed("check could not start: " + box.error().message);
      run.sandbox = *box;
      run.logPath = deps.logDir + "/" + d.app + "/hooks/" + d.name + "-checks.log";
      auto r = lastgood::RunHook(run, [&] { return ctx.Interrupted() != StepResult::Kind::kOk; });
      if (!r.ok()) return StepResult::Failed("check could not start: " + r.error().message);
      if (!r->ok) return StepResult::Failed("check " + r->Describe());
      continue;
    }
    for (const auto& i : *instances) {
      if (i.version != d.version || i.state != InstanceState::kReady) continue;
      // A fleet host's instance is asked on its host, by its node.
      EngineDeps where = deps;
      if (!i.host.empty()) {
        auto scoped = ForHost(deps, i.host);
        if (!scoped.ok()) continue;  // an unreachable host is already a failed one
        where = *scoped;
      }
      ProbeSpec spec;
      spec.kind = ProbeSpec::Kind::kHttp;
      spec.port = i.port;
      spec.path = check.path;
      spec.timeout = check.timeout;
      ProbeResult r = ProbeOn(where, spec);
      if (r.httpStatus < 200 || r.httpStatus > 299)
        return StepResult::Failed("check on " + i.id + ": " + r.detail);
    }
  }
  return StepResult::Ok("");
}

QueryPlaceholders PlaceholdersOf(const Deployment& d) {
  return {std::to_string(d.version), std::to_string(d.fromVersion), d.app, d.slot};
}

// The router's judgement of a window joined with the queries' verdict: both must pass, either
// failing fails the window.
void JoinPrometheus(const PrometheusVerdict& v, Judgement* j) {
  if (j->kind == Judgement::Kind::kFail) {
    j->detail += "; " + v.detail;
  } else if (v.kind == PrometheusVerdict::Kind::kFail) {
    j->kind = Judgement::Kind::kFail;
    j->detail = v.detail + " — " + j->detail;
  } else {
    if (v.kind == PrometheusVerdict::Kind::kWait) j->kind = Judgement::Kind::kWait;
    j->detail += "; " + v.detail;
  }
}

}  // namespace

StepResult RunAnalyze(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  const bool preview = step.count == kBlueGreenAnalysis;
  const Analysis* a = AnalysisOf(step, m);
  if (a == nullptr) return StepResult::Failed("the manifest has no such analysis step");
  if (!deps.routes)
    return StepResult::Failed("analysis needs the router (serve without --no-router)");
  std::optional<PrometheusWatch> prometheus;
  if (a->prometheus) prometheus.emplace(*a->prometheus, PlaceholdersOf(d), deps.prometheus);
  if (a->judge == Analysis::Judge::kSequential) {
    StepResult judged = RunSequentialJudge(ctx, step, *a, prometheus ? &*prometheus : nullptr);
    if (judged.kind != StepResult::Kind::kOk) return judged;
    StepResult checks = RunChecks(ctx, *a);
    if (checks.kind == StepResult::Kind::kOk) return judged;
    return StepResult::Failed(checks.detail + " — " + judged.detail);
  }
  // After a rolling update's last wave no host serves the previous version: the wave is
  // judged against the limits alone (docs/fleets.md, "What an analysis compares against").
  const bool alone = step.count == kWaveAnalysisAlone;
  Analysis limits_alone = *a;
  limits_alone.maxErrorRateIncrease.reset();
  const std::string canary_slot = preview ? kPreviewSlot : d.slot;
  const std::string stable_slot = d.slot;
  // Too little data is never a pass: without a verdict by window + progressDeadline, it fails.
  const auto started = deps.clock->Steady();
  const auto first_deadline = started + a->window + m.progressDeadline;
  auto deadline = first_deadline;
  auto window_start = started;
  int64_t window_start_ms = deps.clock->NowMillis();
  bool silent = false;  // the router does not answer, since silent_since
  std::chrono::steady_clock::time_point silent_since{};
  int failed_windows = 0;
  std::string last;
  for (;;) {
    auto now = deps.clock->Steady();
    auto in_window = std::chrono::duration_cast<Millis>(now - window_start);
    // The router keeps 1-second buckets: ask for the window so far, rounded up.
    Millis ask = std::min(a->window, Millis((in_window.count() / 1000 + 1) * 1000));
    auto stats = deps.routes->Stats(ask);
    if (!stats.ok()) {
      // A worker that crashed is replaced within milliseconds, but until then its control
      // socket does not answer: wait for it, a bounded time (kRouterSilenceLimit).
      if (stats.error().code == ErrorCode::kUnavailable && now < deadline &&
          (!silent || now - silent_since < kRouterSilenceLimit)) {
        if (!silent) silent = true, silent_since = now;
        ctx.Progress("window " + std::to_string(failed_windows + 1) +
                     ": waiting for the router to answer: " + stats.error().message);
        if (!ctx.Sleep(kAnalysisPoll)) return {ctx.Interrupted(), ""};
        continue;
      }
      return StepResult::Failed("cannot read the router's stats: " + stats.error().message);
    }
    silent = false;
    std::string restarted;
    if (stats->statsSinceMillis > window_start_ms) {
      // The router restarted within the window and could not hand its counters over (a
      // crash), or has not yet (a successor before its predecessor's drain ends): it counts
      // only since then. Judging now would judge fewer requests than a window holds, so the
      // window is judged from the restart, and the deadline moves with it — by at most one
      // window in all (docs/router.md, "Statistics across restarts"). Decided afresh at each
      // look: once the counts are carried over, the window is whole again.
      const int64_t restart_ms = std::min(stats->statsSinceMillis, deps.clock->NowMillis());
      const auto judged_from = std::min(now, window_start + Millis(restart_ms - window_start_ms));
      in_window = std::chrono::duration_cast<Millis>(now - judged_from);
      deadline = std::min(first_deadline + a->window,
                          std::max(deadline, judged_from + a->window + m.progressDeadline));
      restarted = "router restarted at " + FormatTimestamp(restart_ms) + ": window extended";
    }
    Measured canary = Measure(*stats, d.app, canary_slot, d.version, false);
    Measured stable = Measure(*stats, d.app, stable_slot, d.version, true);
    Judgement j = Judge(alone ? limits_alone : *a, canary, stable, in_window >= a->window);
    if (alone) j.detail = std::string(kNothingToCompareWith) + "; " + j.detail;
    if (!restarted.empty()) j.detail += "; " + restarted;
    if (prometheus) {
      PrometheusVerdict v = prometheus->Look(now);
      if (v.final) return StepResult::Failed(std::string(kReasonAnalysisFailed) + ": " + v.detail);
      JoinPrometheus(v, &j);
    }
    last = j.detail;
    if (j.kind == Judgement::Kind::kPass) {
      StepResult checks = RunChecks(ctx, *a);
      if (checks.kind == StepResult::Kind::kOk) return StepResult::Ok("passed: " + j.detail);
      j.kind = Judgement::Kind::kFail;
      j.detail = checks.detail + " — " + j.detail;
    }
    if (j.kind == Judgement::Kind::kFail) {
      ++failed_windows;
      if (failed_windows > a->failureLimit) {
        return StepResult::Failed("analysis failed (" + std::to_string(failed_windows) +
                                  " failed window" + (failed_windows > 1 ? "s" : "") +
                                  "): " + j.detail);
      }
      window_start = deps.clock->Steady();  // tolerated: a fresh window
      window_start_ms = deps.clock->NowMillis();
      if (prometheus) prometheus->Reset();
    }
    if (now >= deadline) {
      return StepResult::Failed(
          "analysis reached no verdict within " +
          FormatDuration(std::chrono::duration_cast<Millis>(deadline - started)) + ": " + last);
    }
    ctx.Progress("window " + std::to_string(failed_windows + 1) + ": " + j.detail);
    if (!ctx.Sleep(kAnalysisPoll)) return {ctx.Interrupted(), ""};
  }
}

}  // namespace lastgood
