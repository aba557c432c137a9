// The executor's progressive steps (issue 4): hooks, canary weights, pauses, analysis,
// bluegreen's smoke test, a swap's warm-up and switch — and the intents (pause, resume,
// abort) that a user sends a running deployment.
#include <algorithm>
#include <thread>

#include "engine/analysis.h"
#include "engine/executor.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/swap.h"
#include "health/probe.h"
#include "hooks/hook_runner.h"
#include "notify/notifier.h"

namespace lastgood {
namespace {

constexpr int64_t kIntentPollMillis = 100;
constexpr Millis kAnalysisPoll{100};
constexpr int64_t kProgressEveryMillis = 1000;
constexpr Millis kSlice{25};

int64_t SteadyMillis(Clock* clock) {
  return std::chrono::duration_cast<Millis>(clock->Steady().time_since_epoch()).count();
}

// What every command a deployment runs (hooks, checks, the smoke test) is told.
std::vector<std::pair<std::string, std::string>> CommandEnv(const Deployment& d, int version,
                                                            const std::string& slot) {
  return {{"LASTGOOD_APP", d.app},
          {"LASTGOOD_VERSION", std::to_string(version)},
          {"LASTGOOD_SLOT", slot},
          {"LASTGOOD_DEPLOYMENT", d.name}};
}

}  // namespace

std::string Executor::ReadIntent(const Deployment& d) {
  int64_t now = SteadyMillis(deps_.clock);
  if (now - intent_read_at_ >= kIntentPollMillis) {
    intent_read_at_ = now;
    auto got = deps_.store->GetIntent(d.app, d.name);
    intent_ = got.ok() && got->has_value() ? **got : "";
    if (intent_.rfind("abort:", 0) == 0 && aborted_by_.empty()) aborted_by_ = intent_.substr(6);
  }
  return intent_;
}

StepResult::Kind Executor::Interrupted(const Deployment& d) {
  if (stopping_->load()) return StepResult::Kind::kStopped;
  if (cancel_->load()) return StepResult::Kind::kCanceled;
  ReadIntent(d);
  if (!aborted_by_.empty()) return StepResult::Kind::kCanceled;
  return StepResult::Kind::kOk;
}

bool Executor::Sleep(const Deployment& dep, Millis d) {
  auto until = deps_.clock->Steady() + d;
  while (deps_.clock->Steady() < until) {
    if (Interrupted(dep) != StepResult::Kind::kOk) return false;
    std::this_thread::sleep_for(std::min<Millis>(
        kSlice, std::chrono::duration_cast<Millis>(until - deps_.clock->Steady())));
  }
  return Interrupted(dep) == StepResult::Kind::kOk;
}

bool Executor::WaitWhilePaused(Deployment& d, const Step& next) {
  intent_read_at_ = 0;  // at a step boundary, always read afresh
  if (ReadIntent(d) == "resume" && next.op != Step::Op::kPause) {
    // A resume that came as a timed pause ended by itself: it was for that pause, not for a
    // later one.
    (void)deps_.store->SetIntent(d.app, d.name, "");
    intent_.clear();
  }
  if (intent_ != "pause") return Interrupted(d) == StepResult::Kind::kOk;
  Operation& op = d.operations[d.cursor];
  std::string before = op.detail;
  op.detail = "paused by the user; `lastgood resume " + d.app + "` goes on";
  Commit(d);
  while (ReadIntent(d) == "pause") {
    if (!Sleep(d, kSlice)) return false;
  }
  if (intent_ == "resume") (void)deps_.store->SetIntent(d.app, d.name, "");
  op.detail = before;
  Commit(d);
  return true;
}

void Executor::Progress(Deployment& d, const std::string& detail) {
  int64_t now = SteadyMillis(deps_.clock);
  d.operations[d.cursor].detail = detail;
  if (now - progress_at_ < kProgressEveryMillis) return;
  progress_at_ = now;
  Commit(d);
}

StepResult Executor::RunHook(const Deployment& d, const Step& step, const Manifest& m) {
  const std::optional<Hook>* hook = step.name == "preDeploy"      ? &m.hooks.preDeploy
                                    : step.name == "postDeploy"   ? &m.hooks.postDeploy
                                    : step.name == "preRollback"  ? &m.hooks.preRollback
                                    : step.name == "postRollback" ? &m.hooks.postRollback
                                                                  : nullptr;
  if (hook == nullptr || !*hook) return StepResult::Ok(step.name + ": none in this version");
  auto release = ReleaseDirFor(deps_, d.app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  HookRun run;
  run.name = step.name;
  run.command = (*hook)->command;
  run.timeout = (*hook)->timeout;
  run.env = CommandEnv(d, step.version, d.slot);
  run.cwd = *release;
  run.logPath = deps_.logDir + "/" + d.app + "/hooks/" + d.name + "-" + step.name + ".log";
  auto outcome = lastgood::RunHook(run, [&] { return Interrupted(d) != StepResult::Kind::kOk; });
  if (!outcome.ok())
    return StepResult::Failed(step.name + " could not start: " + outcome.error().message);
  if (outcome->interrupted) return {Interrupted(d), outcome->Describe()};
  // After traffic has moved, a failing post hook is reported, not undone: the release itself
  // passed its gates (docs/behaviour.md).
  // A failing rollback hook is recorded but never stops a rollback (docs/manifest.md).
  bool fatal = step.name == "preDeploy";
  if (!outcome->ok && fatal) return StepResult::Failed(outcome->Describe());
  return StepResult::Ok(outcome->Describe() + (outcome->ok ? "" : " (not fatal: recorded only)"));
}

StepResult Executor::RunWeight(const Deployment& d, const Step& step) {
  auto s = deps_.store->SetCanary(d.app, d.slot, step.version, step.count);
  if (!s.ok()) return StepResult::Failed(s.error().message);
  auto start = deps_.clock->Steady();
  if (deps_.routes) {
    if (auto p = deps_.routes->Publish(); !p.ok())
      return StepResult::Failed("the router did not take the new table: " + p.error().message);
  }
  return StepResult::Ok("canary v" + std::to_string(step.version) + " takes " +
                        std::to_string(step.count) + "% (in force after " +
                        FormatMillis(deps_.clock->Steady() - start) + ")");
}

StepResult Executor::RunPause(Deployment& d, const Step& step) {
  if (step.duration.count() > 0) {
    // `lastgood resume` ends a timed pause early, as it ends an untimed one.
    auto start = deps_.clock->Steady();
    auto until = start + step.duration;
    intent_read_at_ = 0;
    while (deps_.clock->Steady() < until) {
      if (ReadIntent(d) == "resume") {
        (void)deps_.store->SetIntent(d.app, d.name, "");
        return StepResult::Ok("resumed by the user after " +
                              FormatMillis(deps_.clock->Steady() - start) + " of " +
                              FormatDuration(step.duration));
      }
      if (!Sleep(d, std::min<Millis>(kSlice, std::chrono::duration_cast<Millis>(
                                                 until - deps_.clock->Steady())))) {
        return {Interrupted(d), ""};
      }
    }
    return StepResult::Ok("paused " + FormatDuration(step.duration));
  }
  Progress(d, "waiting for `lastgood resume " + d.app + "`");
  Commit(d);
  intent_read_at_ = 0;
  while (ReadIntent(d) != "resume") {
    if (!Sleep(d, kSlice)) return {Interrupted(d), ""};
  }
  (void)deps_.store->SetIntent(d.app, d.name, "");
  return StepResult::Ok("resumed by the user");
}

StepResult Executor::RunChecks(const Deployment& d, const Analysis& a) {
  auto instances = deps_.store->ListInstances(d.app);
  if (!instances.ok()) return StepResult::Failed(instances.error().message);
  auto release = ReleaseDirFor(deps_, d.app, d.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  for (const auto& check : a.checks) {
    if (check.kind == AnalysisCheck::Kind::kExec) {
      HookRun run;
      run.name = "check";
      run.command = check.command;
      run.timeout = check.timeout;
      run.env = CommandEnv(d, d.version, d.slot);
      run.cwd = *release;
      run.logPath = deps_.logDir + "/" + d.app + "/hooks/" + d.name + "-checks.log";
      auto r = lastgood::RunHook(run, [&] { return Interrupted(d) != StepResult::Kind::kOk; });
      if (!r.ok()) return StepResult::Failed("check could not start: " + r.error().message);
      if (!r->ok) return StepResult::Failed("check " + r->Describe());
      continue;
    }
    for (const auto& i : *instances) {
      if (i.version != d.version || i.state != "ready") continue;
      ProbeSpec spec;
      spec.kind = ProbeSpec::Kind::kHttp;
      spec.port = i.port;
      spec.path = check.path;
      spec.timeout = check.timeout;
      ProbeResult r = RunProbe(spec);
      if (r.httpStatus < 200 || r.httpStatus > 299)
        return StepResult::Failed("check on " + i.id + ": " + r.detail);
    }
  }
  return StepResult::Ok("");
}

StepResult Executor::RunAnalyze(Deployment& d, const Step& step, const Manifest& m) {
  const bool preview = step.count < 0;
  const Analysis* a = AnalysisOf(step, m);
  if (a == nullptr) return StepResult::Failed("the manifest has no such analysis step");
  if (!deps_.routes)
    return StepResult::Failed("analysis needs the router (serve without --no-router)");
  const std::string canary_slot = preview ? kPreviewSlot : d.slot;
  const std::string stable_slot = d.slot;
  // Too little data is never a pass: without a verdict by window + progressDeadline, it fails.
  const auto started = deps_.clock->Steady();
  const auto deadline = started + a->window + m.progressDeadline;
  auto window_start = started;
  int failed_windows = 0;
  std::string last;
  for (;;) {
    auto now = deps_.clock->Steady();
    auto in_window = std::chrono::duration_cast<Millis>(now - window_start);
    // The router keeps 1-second buckets: ask for the window so far, rounded up.
    Millis ask = std::min(a->window, Millis((in_window.count() / 1000 + 1) * 1000));
    auto stats = deps_.routes->Stats(ask);
    if (!stats.ok())
      return StepResult::Failed("cannot read the router's stats: " + stats.error().message);
    Measured canary = Measure(*stats, d.app, canary_slot, d.version, false);
    Measured stable = Measure(*stats, d.app, stable_slot, d.version, true);
    Judgement j = Judge(*a, canary, stable, in_window >= a->window);
    last = j.detail;
    if (j.kind == Judgement::Kind::kPass) {
      StepResult checks = RunChecks(d, *a);
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
      window_start = deps_.clock->Steady();  // tolerated: a fresh window
    }
    if (now >= deadline) {
      return StepResult::Failed("analysis reached no verdict within " +
                                FormatDuration(a->window + m.progressDeadline) + ": " + last);
    }
    Progress(d, "window " + std::to_string(failed_windows + 1) + ": " + j.detail);
    if (!Sleep(d, kAnalysisPoll)) return {Interrupted(d), ""};
  }
}

StepResult Executor::RunSmoke(const Deployment& d, const Step& step, const Manifest& m) {
  if (!m.strategy.blueGreen.smokeTest) return StepResult::Ok("no smoke test");
  auto release = ReleaseDirFor(deps_, d.app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  HookRun run;
  run.name = "smokeTest";
  run.command = m.strategy.blueGreen.smokeTest->command;
  run.timeout = m.strategy.blueGreen.smokeTest->timeout;
  run.env = CommandEnv(d, step.version, kPreviewSlot);
  if (!m.route.preview.empty())
    run.env.emplace_back("LASTGOOD_PREVIEW_URL", "http://" + m.route.preview);
  auto instances = deps_.store->ListInstances(d.app);
  if (instances.ok()) {
    std::string list;
    for (const auto& i : *instances) {
      if (i.slot == kPreviewSlot && i.version == step.version && i.state == "ready")
        list += (list.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(i.port);
    }
    run.env.emplace_back("LASTGOOD_INSTANCES", list);
  }
  run.cwd = *release;
  run.logPath = deps_.logDir + "/" + d.app + "/hooks/" + d.name + "-smokeTest.log";
  auto r = lastgood::RunHook(run, [&] { return Interrupted(d) != StepResult::Kind::kOk; });
  if (!r.ok()) return StepResult::Failed("smokeTest could not start: " + r.error().message);
  if (r->interrupted) return {Interrupted(d), r->Describe()};
  if (!r->ok) return StepResult::Failed(r->Describe());
  return StepResult::Ok(r->Describe());
}

StepResult Executor::RunWarmup(const Deployment& d, const Step& step, const Manifest& m) {
  auto instances = deps_.store->ListInstances(d.app);
  if (!instances.ok()) return StepResult::Failed(instances.error().message);
  auto vm = LoadManifest(deps_, d.app, step.version);
  if (!vm.ok()) return StepResult::Failed(vm.error().message);
  const SwapOptions& warm = vm->swap;
  const auto deadline = deps_.clock->Steady() + m.progressDeadline;
  int warmed = 0;
  for (const auto& i : *instances) {
    if (i.slot != step.slot || i.version != step.version || !IsLive(i)) continue;
    if (i.state != "ready")
      return StepResult::Failed("instance " + i.id + " is " + i.state + ", not ready");
    for (;;) {
      ProbeSpec spec;
      spec.kind = ProbeSpec::Kind::kHttp;
      spec.port = i.port;
      spec.path =
          warm.warmupPath.empty()
              ? (vm->readiness && vm->readiness->kind == Probe::Kind::kHttp ? vm->readiness->path
                                                                            : "/")
              : warm.warmupPath;
      ProbeResult r = RunProbe(spec);
      bool accepted = warm.warmupStatuses.empty()
                          ? r.httpStatus >= 200 && r.httpStatus <= 299
                          : std::count(warm.warmupStatuses.begin(), warm.warmupStatuses.end(),
                                       r.httpStatus) > 0;
      if (accepted) break;
      if (deps_.clock->Steady() >= deadline)
        return StepResult::Failed("warm-up of " + i.id +
                                  " not accepted by the deadline: " + r.detail);
      if (!Sleep(d, Millis(100))) return {Interrupted(d), ""};
    }
    ++warmed;
  }
  if (warmed == 0)
    return StepResult::Failed("no instance of v" + std::to_string(step.version) + " in " +
                              step.slot);
  return StepResult::Ok(std::to_string(warmed) + " instances warmed up");
}

StepResult Executor::RunSwitch(const Deployment& d, const Step& step, const Manifest& m) {
  const std::string& source = step.slot;
  auto slots = deps_.store->ListSlots(d.app);
  if (!slots.ok()) return StepResult::Failed(slots.error().message);
  const SlotRecord* src = nullptr;
  for (const auto& s : *slots) {
    if (s.slot == source) src = &s;
  }
  if (d.kind != DeploymentKind::kSwap) {
    // bluegreen (and its swap back): the preview slot's record says what it now runs.
    SlotRecord rec;
    rec.app = d.app;
    rec.slot = source;
    rec.version = step.version;
    rec.weight = 0;
    if (src) rec.stickyEnv = src->stickyEnv;
    if (src == nullptr || src->version != step.version) {
      if (auto s = deps_.store->SetSlot(rec); !s.ok()) return StepResult::Failed(s.error().message);
    }
  }
  // Timed in two parts: the store's transaction (its commit waits for the disk) and the
  // router's table change (in force before the router's own fsync; docs/performance.md).
  const auto start = deps_.clock->Steady();
  if (auto s = deps_.store->SwapSlots(d.app, source, d.slot); !s.ok())
    return StepResult::Failed(s.error().message);
  const auto stored = deps_.clock->Steady();
  if (deps_.routes) {
    if (auto p = deps_.routes->Publish(); !p.ok())
      return StepResult::Failed("the router did not take the new table: " + p.error().message);
  }
  const auto routed = deps_.clock->Steady();
  std::string detail = d.slot + " runs v" + std::to_string(step.version) + " (switched in " +
                       FormatMillis(routed - start) + ": store " + FormatMillis(stored - start) +
                       ", router " + FormatMillis(routed - stored) + ")";
  if (d.kind == DeploymentKind::kSwap) return StepResult::Ok(detail);
  // What production ran now sits in the preview slot, still warm: a rollback is a swap back.
  // It stays for keepPrevious (at least past the bake), unless it is being left because it
  // failed.
  auto instances = deps_.store->ListInstances(d.app);
  if (!instances.ok()) return StepResult::Failed(instances.error().message);
  const bool keep = d.trigger != Trigger::kAuto;
  const int64_t until = deps_.clock->NowMillis() +
                        std::max<int64_t>(m.rollback.keepPrevious.count(), m.bake.count() + 60'000);
  std::vector<InstanceRecord> leave;
  for (auto rec : *instances) {
    if (rec.slot != source || rec.version == step.version) continue;
    if (!keep) {
      leave.push_back(rec);
      continue;
    }
    rec.warmUntil = until;
    (void)deps_.store->PutInstance(rec);
  }
  SlotInstances preview(deps_, d.app, source, [] { return StepResult::Kind::kOk; });
  (void)preview.Retire(leave);
  return StepResult::Ok(detail + (keep ? "; the previous version stays in " + source : ""));
}

std::optional<Deployment> Executor::AutoSwapAfter(const Deployment& d) {
  if (d.slot == kProductionSlot || d.kind == DeploymentKind::kSwap) return {};
  auto m = LoadManifest(deps_, d.app, d.version);
  if (!m.ok()) return {};
  auto it = m->slots.find(d.slot);
  if (it == m->slots.end() || !it->second.autoSwap) return {};
  auto swap =
      SwapDeployment(deps_, d.app, d.slot, kProductionSlot, "swap", Trigger::kAuto, "lastgood");
  if (!swap.ok()) return {};
  swap->reason = "autoSwap after " + d.name + ": " + swap->reason;
  swap->startedAt = deps_.clock->NowMillis();
  swap->state = DeploymentState::kRunning;
  return *swap;
}

void Executor::Announce(const Deployment& d) {
  if (!deps_.notifier) return;
  auto m = LoadManifest(deps_, d.app, d.version);
  if (!m.ok() || m->notifications.webhooks.empty()) return;
  DeploymentEvent e;
  e.event = d.state == DeploymentState::kRunning      ? "started"
            : d.state == DeploymentState::kSucceeded  ? "succeeded"
            : d.state == DeploymentState::kRolledBack ? "rolledBack"
            : d.state == DeploymentState::kCanceled   ? "canceled"
                                                      : "failed";
  e.app = d.app;
  e.deployment = d.name;
  e.slot = d.slot;
  e.kind = KindName(d.kind);
  e.strategy = d.strategy;
  e.trigger = d.trigger == Trigger::kAuto ? "auto" : "user";
  e.actor = d.actor;
  e.state = StateName(d.state);
  e.reason = d.reason;
  e.version = d.version;
  e.fromVersion = d.fromVersion;
  e.at = d.finishedAt ? d.finishedAt : d.startedAt;
  deps_.notifier->Send(m->notifications.webhooks, e);
}

}  // namespace lastgood
