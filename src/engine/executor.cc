#include "engine/executor.h"

#include "engine/drainer.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/swap.h"
#include "history/reasons.h"
#include "history/rules.h"
#include "manifest/parser.h"

namespace lastgood {

Executor::Executor(const EngineDeps& deps, std::atomic<bool>* cancel, std::atomic<bool>* stopping,
                   std::function<void()> notify)
    : deps_(deps), cancel_(cancel), stopping_(stopping), notify_(std::move(notify)) {}

void Executor::Commit(const Deployment& d) {
  // A record that cannot be written is not a reason to abandon the instances; the next
  // commit (or a restart's recovery) writes the state again.
  (void)deps_.store->UpdateDeployment(d);
  notify_();
}

void Executor::Run(const std::string& app, const std::string& first) {
  std::string name = first;
  while (!name.empty()) {
    auto got = deps_.store->GetDeployment(app, name);
    if (!got.ok()) return;
    Deployment d = std::move(*got);
    if (IsFinal(d.state)) return;
    // Intents belong to one deployment: the rollback that follows an abort is not aborted.
    intent_.clear();
    intent_read_at_ = 0;
    aborted_by_.clear();
    if (d.cursor == 0 && !d.operations.empty() &&
        d.operations[0].state == OperationState::kPending) {
      Announce(d);  // "started", once: a resumed deployment has begun already
    }
    std::string reason;
    Ending ending = RunPlan(d, reason);
    if (ending == Ending::kStopped) return;  // left Running; Recover() resumes it
    name = Finish(d, ending, reason);
  }
}

Executor::Ending Executor::RunPlan(Deployment& d, std::string& reason) {
  auto version = deps_.store->GetVersion(d.app, d.version);
  if (!version.ok()) {
    reason = version.error().message;
    return Ending::kFailed;
  }
  auto parsed = ParseManifest(version->manifest, {});
  if (!parsed.ok()) {
    reason = "the stored manifest of v" + std::to_string(d.version) +
             " no longer parses: " + parsed.error().ToString();
    return Ending::kFailed;
  }
  const Manifest& m = parsed->manifest;
  const int steps = static_cast<int>(d.operations.size());
  // A step already Running when this starts was interrupted by a restart; it runs again
  // (every step is idempotent) and its record says so.
  bool resumed = d.cursor < steps && d.operations[d.cursor].state == OperationState::kRunning;
  while (d.cursor < steps) {
    Operation& op = d.operations[d.cursor];
    auto step = StepFromJson(op.spec);
    if (!step.ok()) {
      reason = step.error().message;
      return Ending::kFailed;
    }
    if (stopping_->load()) return Ending::kStopped;
    if (!WaitWhilePaused(d, *step) && stopping_->load()) return Ending::kStopped;
    if (!aborted_by_.empty()) {
      reason = "aborted by " + aborted_by_;
      op.state = OperationState::kCanceled;
      op.finishedAt = deps_.clock->NowMillis();
      op.detail = reason;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return Ending::kAborted;
    }
    if (cancel_->load()) {
      reason = kReasonCanceledByRollback;
      op.state = OperationState::kCanceled;
      op.finishedAt = deps_.clock->NowMillis();
      op.detail = kReasonCanceledByRollback;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return Ending::kCanceled;
    }
    if (op.state != OperationState::kRunning) {
      op.state = OperationState::kRunning;
      op.startedAt = deps_.clock->NowMillis();
      Commit(d);
    }
    StepResult r = RunStep(d, *step, m);
    if (r.kind == StepResult::Kind::kStopped) return Ending::kStopped;
    op.finishedAt = deps_.clock->NowMillis();
    op.detail = resumed ? std::string(kReasonControllerRestarted) + "; " + r.detail : r.detail;
    resumed = false;
    if (r.kind == StepResult::Kind::kCanceled && !aborted_by_.empty()) {
      reason = "aborted by " + aborted_by_;
      op.state = OperationState::kCanceled;
      op.detail = reason;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return Ending::kAborted;
    }
    if (r.kind != StepResult::Kind::kOk) {
      bool canceled = r.kind == StepResult::Kind::kCanceled;
      op.state = canceled ? OperationState::kCanceled : OperationState::kFailed;
      if (canceled) op.detail = kReasonCanceledByRollback;
      reason = canceled ? std::string(kReasonCanceledByRollback) : op.step + ": " + r.detail;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return canceled ? Ending::kCanceled : Ending::kFailed;
    }
    op.state = OperationState::kSucceeded;
    ++d.cursor;
    // One commit ends this step and starts the next, so the record never shows a gap.
    if (d.cursor < steps) {
      d.operations[d.cursor].state = OperationState::kRunning;
      d.operations[d.cursor].startedAt = op.finishedAt;
      Commit(d);
    }
  }
  return Ending::kSucceeded;
}

int Executor::KeepWarm(const Deployment& d, const Manifest& m) const {
  // The version being left stays warm for keepPrevious — unless it is being left because
  // it failed: nobody rolls forward to a release that just broke.
  if (m.rollback.keepPrevious.count() <= 0 || d.trigger == Trigger::kAuto) return 0;
  return d.fromVersion;
}

int64_t Executor::WarmUntil(const Manifest& m) const {
  return deps_.clock->NowMillis() + m.rollback.keepPrevious.count();
}

StepResult Executor::RunStep(Deployment& d, const Step& step, const Manifest& m) {
  SlotInstances slot(deps_, d.app, step.slot.empty() ? d.slot : step.slot,
                     [this, &d] { return Interrupted(d); });
  auto release = ReleaseDirFor(deps_, d.app, step.version);
  switch (step.op) {
    case Step::Op::kPrepare:
      if (!release.ok()) return StepResult::Failed(release.error().message);
      return StepResult::Ok("release directory " + *release);
    case Step::Op::kStart:
      if (!release.ok()) return StepResult::Failed(release.error().message);
      return slot.EnsureReady(step.version, m, *release, step.count);
    case Step::Op::kStopOld:
      return slot.StopOthers(step.version, step.count, KeepWarm(d, m), WarmUntil(m));
    case Step::Op::kBake:
      if (!release.ok()) return StepResult::Failed(release.error().message);
      return slot.Bake(step.version, m, *release);
    case Step::Op::kHook:
      return RunHook(d, step, m);
    case Step::Op::kWeight:
      return RunWeight(d, step);
    case Step::Op::kPause:
      return RunPause(d, step);
    case Step::Op::kAnalyze:
      return RunAnalyze(d, step, m);
    case Step::Op::kSmoke:
      return RunSmoke(d, step, m);
    case Step::Op::kSettings: {
      if (!release.ok()) return StepResult::Failed(release.error().message);
      // The instances of a version being swapped run that version's manifest.
      auto vm = LoadManifest(deps_, d.app, step.version);
      if (!vm.ok()) return StepResult::Failed(vm.error().message);
      return slot.EnsureSettings(step.version, *vm, *release, step.name);
    }
    case Step::Op::kWarmup:
      return RunWarmup(d, step, m);
    case Step::Op::kSwitch:
      return RunSwitch(d, step, m);
    case Step::Op::kFinish:
      return RunFinish(d, step, m, slot);
  }
  return StepResult::Failed("unknown step");
}

StepResult Executor::RunFinish(const Deployment& d, const Step& step, const Manifest& m,
                               SlotInstances& slot) {
  if (!step.name.empty()) {
    // A swap's slots changed at its switch; the phases' ends are marked here.
    const std::string& source = SwapSource(d);
    if (step.name == "preview") {
      auto s = deps_.store->SetSwapPending(d.app, d.slot, source);
      if (!s.ok()) return StepResult::Failed(s.error().message);
      return StepResult::Ok(source + " runs v" + std::to_string(step.version) + " with " + d.slot +
                            "'s settings; `lastgood swap " + d.app + " --complete` or `--cancel`");
    }
    (void)deps_.store->SetSwapPending(d.app, d.slot, "");
    return StepResult::Ok(step.name == "cancel"
                              ? "the swap is canceled"
                              : d.slot + " runs v" + std::to_string(step.version));
  }
  // Leftovers of other versions (a step interrupted between start and stop) go now.
  StepResult r = slot.StopOthers(step.version, 0, KeepWarm(d, m), WarmUntil(m));
  if (r.kind != StepResult::Kind::kOk) return r;
  r = slot.StopStaleWarm(KeepWarm(d, m));
  if (r.kind != StepResult::Kind::kOk) return r;
  // The deployment ends with the slot as it says: no instance still stopping.
  if (deps_.drainer) deps_.drainer->WaitIdle(d.app);
  SlotRecord rec;
  rec.app = d.app;
  rec.slot = d.slot;
  rec.version = step.version;
  rec.weight = d.slot == kProductionSlot ? 100 : 0;
  rec.stickyEnv = StickyJson(m);  // a deployment brings its version's sticky settings
  if (auto s = deps_.store->SetSlot(rec); !s.ok()) return StepResult::Failed(s.error().message);
  (void)deps_.store->SetCanary(d.app, d.slot, 0, 0);
  return StepResult::Ok(d.slot + " runs v" + std::to_string(step.version));
}

std::string Executor::Finish(Deployment& d, Ending ending, const std::string& reason) {
  d.finishedAt = deps_.clock->NowMillis();
  if (!reason.empty()) d.reason = reason;  // an automatic rollback keeps why it ran
  d.state = ending == Ending::kSucceeded  ? DeploymentState::kSucceeded
            : ending == Ending::kCanceled ? DeploymentState::kCanceled
            : ending == Ending::kAborted  ? DeploymentState::kRolledBack
                                          : DeploymentState::kFailed;
  if (ending == Ending::kCanceled || ending == Ending::kAborted)
    (void)deps_.store->SetIntent(d.app, d.name, "");
  if (ending != Ending::kSucceeded) WithdrawTraffic(d);
  std::optional<Deployment> follow;
  if (ending == Ending::kFailed || ending == Ending::kAborted) {
    follow = AutoRollbackFor(d, ending == Ending::kAborted);
  } else if (ending == Ending::kSucceeded) {
    follow = AutoSwapAfter(d);
  }
  std::string next;
  if (follow) {
    // The end and what it causes are committed together.
    auto created = deps_.store->EndAndCreate(d, *follow);
    if (created.ok()) next = created->name;
  }
  if (next.empty()) (void)deps_.store->UpdateDeployment(d);
  if (auto v = VerdictAfter(d)) (void)deps_.store->SetVerdict(d.app, d.version, *v);
  if (ending == Ending::kFailed && next.empty() && d.rollbackOnError != "none" &&
      d.kind != DeploymentKind::kRollback && d.kind != DeploymentKind::kSwap) {
    // Nothing good to return to: a crash-looping release must not stay up on its own.
    SlotInstances slot(deps_, d.app, d.slot, [] { return StepResult::Kind::kOk; });
    (void)slot.StopOthers(0, 0);
  }
  Announce(d);
  notify_();
  return next;
}

void Executor::WithdrawTraffic(const Deployment& d) {
  // A canary that failed or was aborted gets no new request from this moment, before its
  // rollback even starts (issue 4: "traffic to stable at once").
  auto slots = deps_.store->ListSlots(d.app);
  if (!slots.ok()) return;
  for (const auto& s : *slots) {
    if (s.slot == d.slot && s.canaryVersion == d.version && s.canaryWeight > 0) {
      (void)deps_.store->SetCanary(d.app, d.slot, d.version, 0);
      if (deps_.routes) (void)deps_.routes->Publish();
    }
  }
  // A bluegreen release that never went live leaves the preview slot.
  if (d.strategy == "bluegreen" && d.slot == kProductionSlot) {
    auto instances = deps_.store->ListInstances(d.app);
    if (!instances.ok()) return;
    std::vector<InstanceRecord> preview;
    for (const auto& i : *instances) {
      if (i.slot == kPreviewSlot && i.version == d.version && i.warmUntil == 0 && IsLive(i))
        preview.push_back(i);
    }
    SlotInstances slot(deps_, d.app, kPreviewSlot, [] { return StepResult::Kind::kOk; });
    (void)slot.Retire(preview);
  }
}

std::optional<Deployment> Executor::AutoRollbackFor(const Deployment& failed, bool aborted) {
  if (failed.kind == DeploymentKind::kRollback || failed.kind == DeploymentKind::kSwap) return {};
  if (failed.rollbackOnError == "none" && !aborted) return {};
  std::optional<int> target;
  if (failed.rollbackOnError == "lastSuccessful" || failed.rollbackOnError.empty()) {
    auto finished = deps_.store->FinishedDeployments(failed.app, failed.slot, 1000);
    if (finished.ok()) target = LastGood(*finished, failed.slot, failed.version);
  } else {
    auto named = deps_.store->GetDeployment(failed.app, failed.rollbackOnError);
    if (named.ok() && named->state == DeploymentState::kSucceeded) target = named->version;
  }
  if (!target) return {};
  auto plan = PlanFor(deps_, failed.app, failed.slot, *target, DeploymentKind::kRollback);
  if (!plan.ok()) return {};
  Deployment rb;
  rb.app = failed.app;
  rb.version = *target;
  rb.slot = failed.slot;
  rb.kind = DeploymentKind::kRollback;
  rb.strategy = plan->strategy;
  rb.trigger = aborted ? Trigger::kUser : Trigger::kAuto;
  rb.actor = aborted ? aborted_by_ : "lastgood";
  rb.reason =
      aborted ? failed.name + " was " + failed.reason
              : std::string(kReasonAutoRollback) + " " + failed.name + " failed: " + failed.reason;
  rb.startedAt = deps_.clock->NowMillis();
  rb.fromVersion = failed.version;
  rb.rollbackOnError = "none";
  rb.operations = plan->operations;
  return rb;
}

}  // namespace lastgood
