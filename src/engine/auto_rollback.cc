// The end of a deployment and what follows it: its verdict recorded, traffic withdrawn from
// a canary or preview that did not succeed, and the automatic rollback its policy asks for
// (rollback.onError: lastSuccessful, a named deployment, or none) — or, after a success in a
// slot with autoSwap, the swap into production. What follows is committed in the same
// transaction as the end, so that a crash between them loses neither.
#include "engine/executor.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/slot_instances.h"
#include "engine/swap.h"
#include "history/reasons.h"
#include "history/rules.h"

namespace lastgood {

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

}  // namespace lastgood
