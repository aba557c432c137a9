// The end of a deployment and what follows it: its verdict recorded, traffic withdrawn from
// a canary or preview that did not succeed, and the automatic rollback its policy asks for
// (rollback.onError: lastSuccessful, a named deployment, or none) — or, after a success in a
// slot with autoSwap, the swap into production. What follows is committed in the same
// transaction as the end, so that a crash between them loses neither.
#include <algorithm>

#include "engine/commit_watch.h"
#include "engine/executor.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/slot_instances.h"
#include "engine/swap.h"
#include "history/reasons.h"
#include "history/rules.h"

namespace lastgood {

namespace {

// How long Finish waits between two attempts while the store fails.
constexpr Millis kStoreRetryFirst{100};
constexpr Millis kStoreRetryMax{5'000};
constexpr Millis kStoreRetrySlice{25};

bool IsStoreFailure(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kInternal;
}

}  // namespace

std::string Executor::Finish(Deployment& d, Ending ending, const std::string& reason) {
  d.finishedAt = deps_.clock->NowMillis();
  if (!reason.empty()) d.reason = reason;  // an automatic rollback keeps why it ran
  d.state = ending == Ending::kSucceeded  ? DeploymentState::kSucceeded
            : ending == Ending::kCanceled ? DeploymentState::kCanceled
            : ending == Ending::kAborted  ? DeploymentState::kRolledBack
                                          : DeploymentState::kFailed;
  // Each attempt goes on from where the last one stopped; every part is idempotent.
  bool ended = false;
  std::string next;
  Millis wait = kStoreRetryFirst;
  for (;;) {
    if (deps_.commits) deps_.commits->Watch();
    auto s = TryFinish(d, ending, ended, next);
    if (s.ok() && !StoreFailure()) break;
    // The store does not answer: the end is written once it does. A controller stopping
    // meanwhile leaves the record Running, and the next one resumes it.
    for (auto until = deps_.clock->Steady() + wait; deps_.clock->Steady() < until;) {
      if (stopping_->load()) return "";
      deps_.clock->SleepFor(kStoreRetrySlice);
    }
    wait = std::min(wait * 2, kStoreRetryMax);
  }
  Announce(d);
  notify_();
  return next;
}

lastgood::Status Executor::TryFinish(Deployment& d, Ending ending, bool& ended, std::string& next) {
  if (!ended) {
    if (ending == Ending::kCanceled || ending == Ending::kAborted)
      LG_RETURN_IF_ERROR(deps_.store->ClearIntent(d.app, d.name));
    if (ending != Ending::kSucceeded) LG_RETURN_IF_ERROR(WithdrawTraffic(d));
    std::optional<Deployment> follow;
    if (ending == Ending::kFailed || ending == Ending::kStoreFailed || ending == Ending::kAborted) {
      auto rollback = AutoRollbackFor(d, ending == Ending::kAborted);
      if (!rollback.ok()) return rollback.error();
      follow = std::move(*rollback);
    } else if (ending == Ending::kSucceeded) {
      // A refused autoSwap starts nothing; the deployment that asked for it says why.
      std::string refused;
      follow = AutoSwapAfter(d, &refused);
      if (!refused.empty()) d.reason = std::string(kReasonAutoSwapRefused) + ": " + refused;
    }
    // The end, the version's verdict and what the end causes are committed together. A
    // store that failed says nothing of the release: its verdict then stays as it was.
    std::optional<Verdict> verdict;
    if (ending != Ending::kStoreFailed) verdict = VerdictAfter(d);
    auto ended_now = deps_.store->EndDeployment(d, verdict, follow);
    if (!ended_now.ok() && IsStoreFailure(ended_now.error())) return ended_now.error();
    if (!ended_now.ok() && follow) {
      // The follow-up could not be created (its name taken, say): the end alone is recorded.
      ended_now = deps_.store->EndDeployment(d, verdict, std::nullopt);
      if (!ended_now.ok() && IsStoreFailure(ended_now.error())) return ended_now.error();
    } else if (ended_now.ok() && follow) {
      next = ended_now->name;
    }
    ended = true;
  }
  if (ending == Ending::kFailed && next.empty() &&
      d.rollbackOnError.kind != RollbackOnError::Kind::kNone &&
      d.kind != DeploymentKind::kRollback && d.kind != DeploymentKind::kSwap) {
    // Nothing good to return to: a crash-looping release must not stay up on its own.
    SlotInstances slot(deps_, d.app, d.slot, [] { return StepResult::Kind::kOk; });
    StepResult r = slot.StopOthers(0, 0);
    if (r.kind != StepResult::Kind::kOk) return Error::Unavailable(r.detail);
  }
  return Status::Ok();
}

lastgood::Status Executor::WithdrawTraffic(const Deployment& d) {
  // A canary that failed or was aborted gets no new request from this moment, before its
  // rollback even starts (issue 4: "traffic to stable at once").
  auto slots = deps_.store->ListSlots(d.app);
  if (!slots.ok()) return slots.error();
  for (const auto& s : *slots) {
    if (s.slot == d.slot && s.canaryVersion == d.version && s.canaryWeight > 0) {
      LG_RETURN_IF_ERROR(deps_.store->SetCanary(d.app, d.slot, d.version, 0));
      // A router that does not answer now gets the table from the store when it does.
      if (deps_.routes) (void)deps_.routes->Publish();
    }
  }
  // A bluegreen release that never went live leaves the preview slot.
  if (d.strategy == "bluegreen" && d.slot == kProductionSlot) {
    auto instances = deps_.store->ListInstances(d.app);
    if (!instances.ok()) return instances.error();
    std::vector<InstanceRecord> preview;
    for (const auto& i : *instances) {
      if (i.slot == kPreviewSlot && i.version == d.version && i.warmUntil == 0 && IsLive(i))
        preview.push_back(i);
    }
    SlotInstances slot(deps_, d.app, kPreviewSlot, [] { return StepResult::Kind::kOk; });
    StepResult r = slot.Retire(preview);
    if (r.kind != StepResult::Kind::kOk) return Error::Unavailable(r.detail);
  }
  return Status::Ok();
}

Result<std::optional<Deployment>> Executor::AutoRollbackFor(const Deployment& failed,
                                                            bool aborted) {
  if (failed.kind == DeploymentKind::kRollback || failed.kind == DeploymentKind::kSwap)
    return std::optional<Deployment>();
  const RollbackOnError& policy = failed.rollbackOnError;
  if (policy.kind == RollbackOnError::Kind::kNone && !aborted) return std::optional<Deployment>();
  std::optional<int> target;
  if (policy.kind != RollbackOnError::Kind::kDeployment) {
    auto last_good = deps_.store->LastGood(failed.app, failed.slot, failed.version);
    if (!last_good.ok()) return last_good.error();
    target = *last_good;
  } else {
    auto named = deps_.store->GetDeployment(failed.app, policy.deployment);
    if (!named.ok() && named.error().code != ErrorCode::kNotFound) return named.error();
    if (named.ok() && named->state == DeploymentState::kSucceeded) target = named->version;
  }
  if (!target) return std::optional<Deployment>();
  auto plan = PlanFor(deps_, failed.app, failed.slot, *target, DeploymentKind::kRollback);
  if (!plan.ok()) return std::optional<Deployment>();
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
  rb.rollbackOnError = RollbackOnError::None();
  rb.operations = plan->operations;
  return std::optional<Deployment>(std::move(rb));
}

std::optional<Deployment> Executor::AutoSwapAfter(const Deployment& d, std::string* refused) {
  if (d.slot == kProductionSlot || d.kind == DeploymentKind::kSwap) return {};
  auto m = LoadManifest(deps_, d.app, d.version);
  if (!m.ok()) return {};
  auto it = m->slots.find(d.slot);
  if (it == m->slots.end() || !it->second.autoSwap) return {};
  auto swap =
      SwapDeployment(deps_, d.app, d.slot, kProductionSlot, "swap", Trigger::kAuto, "lastgood");
  if (!swap.ok()) {
    *refused = swap.error().message;
    return {};
  }
  swap->reason = std::string(kReasonAutoSwapAfter) + " " + d.name + ": " + swap->reason;
  swap->startedAt = deps_.clock->NowMillis();
  swap->state = DeploymentState::kRunning;
  return *swap;
}

}  // namespace lastgood
