// The engine's rollback, rollforward and promote intents.
#include <filesystem>

#include "engine/diff.h"
#include "engine/engine.h"
#include "engine/release.h"
#include "engine/slot_now.h"
#include "history/reasons.h"
#include "history/rules.h"

namespace lastgood {
namespace {

// "Rolling back or forward to the version already running is a no-op that says so."
Outcome Noop(const std::string& app, int v, const std::string& slot) {
  Outcome o;
  o.app = app;
  o.noop = true;
  o.version = v;
  o.slot = slot;
  o.message = app + " v" + std::to_string(v) + " already runs in " + slot + "; nothing to do";
  return o;
}

}  // namespace

// The shared path of rollback and rollforward once the target version is known.
static Result<Outcome> PrepareMove(const EngineDeps& deps, const SlotNow& now,
                                   const std::string& app, int target, DeploymentKind kind,
                                   bool what_if, Outcome& o) {
  o.app = app;
  o.slot = now.slot;
  o.kind = KindName(kind);
  o.version = target;
  o.fromVersion = now.current();
  auto to = deps.store->GetVersion(app, target);
  if (!to.ok()) return to.error();
  std::string from_manifest;
  if (o.fromVersion > 0) {
    auto from = deps.store->GetVersion(app, o.fromVersion);
    if (from.ok()) from_manifest = from->manifest;
  }
  o.diff = UnifiedDiff(from_manifest, to->manifest, VersionLabel(app, o.fromVersion),
                       VersionLabel(app, target));
  // Before anything stops: the target's bits must be there (DESIGN.md section 4).
  if (!what_if) {
    auto release = ReleaseDirFor(deps, app, target);
    if (!release.ok()) {
      return Error::Unavailable("cannot " + std::string(KindName(kind)) + " to v" +
                                std::to_string(target) + ": " + release.error().message +
                                "; nothing was changed");
    }
  }
  auto plan = PlanFor(deps, app, now.slot, target, kind);
  if (!plan.ok()) return plan.error();
  o.strategy = plan->strategy;
  for (const auto& op : plan->operations) o.plan.push_back(op.step);
  if (what_if) {
    o.whatIf = true;
    o.message = "would " + std::string(KindName(kind)) + " " + now.slot + " of " + app + " from v" +
                std::to_string(o.fromVersion) + " to v" + std::to_string(target);
  }
  return o;
}

Result<Outcome> Engine::Rollback(const RollRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  LG_RETURN_IF_ERROR(ValidateName(req.slot, "slot name", "--slot"));
  auto now = ReadSlot(*deps_.store, req.app, req.slot);
  if (!now.ok()) return now.error();
  auto versions = deps_.store->ListVersions(req.app);
  if (!versions.ok()) return versions.error();
  auto finished = deps_.store->FinishedDeployments(req.app, req.slot, 10'000);
  if (!finished.ok()) return finished.error();
  auto target = RollbackTarget(*versions, *finished, req.slot, now->current(), req.to, req.force);
  if (!target.ok()) return target.error();
  if (*target == now->current() && !now->active) {
    return Noop(req.app, *target, req.slot);
  }
  Outcome o;
  auto prepared =
      PrepareMove(deps_, *now, req.app, *target, DeploymentKind::kRollback, req.whatIf, o);
  if (!prepared.ok() || req.whatIf) return prepared;
  Prepared p;
  p.deployment.app = req.app;
  p.deployment.version = *target;
  p.deployment.slot = req.slot;
  p.deployment.kind = DeploymentKind::kRollback;
  p.deployment.actor = req.actor;
  p.deployment.rollbackOnError = "none";  // a failed rollback is not rolled back again
  p.deployment.fromVersion = now->current();
  p.deployment.reason = std::string(kReasonRolledBackTo) + " " + std::to_string(*target);
  p.outcome = *prepared;
  return StartDeployment(std::move(p), /*preempt=*/true);
}

Result<Outcome> Engine::Rollforward(const RollRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  LG_RETURN_IF_ERROR(ValidateName(req.slot, "slot name", "--slot"));
  auto now = ReadSlot(*deps_.store, req.app, req.slot);
  if (!now.ok()) return now.error();
  auto versions = deps_.store->ListVersions(req.app);
  if (!versions.ok()) return versions.error();
  if (req.to && *req.to == now->current() && !now->active) {
    return Noop(req.app, *req.to, req.slot);
  }
  auto target = RollforwardTarget(*versions, now->current(), req.to, req.force);
  if (!target.ok()) return target.error();
  Outcome o;
  auto prepared =
      PrepareMove(deps_, *now, req.app, *target, DeploymentKind::kRollforward, req.whatIf, o);
  if (!prepared.ok() || req.whatIf) return prepared;
  if (now->active) {
    return Error::Conflict("deployment " + now->active->name + " of " + req.app +
                           " is running; wait for it to end, or roll back to stop it");
  }
  Prepared p;
  p.deployment.app = req.app;
  p.deployment.version = *target;
  p.deployment.slot = req.slot;
  p.deployment.kind = DeploymentKind::kRollforward;
  p.deployment.actor = req.actor;
  p.deployment.rollbackOnError = "lastSuccessful";
  p.deployment.fromVersion = now->current();
  p.outcome = *prepared;
  return StartDeployment(std::move(p), /*preempt=*/false);
}

Result<Outcome> Engine::Promote(const PromoteRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  auto source = deps_.store->GetVersion(req.app, req.version);
  if (!source.ok()) return source.error();
  auto now = ReadSlot(*deps_.store, req.app, kProductionSlot);
  if (!now.ok()) return now.error();
  if (now->active && !req.whatIf) {
    return Error::Conflict("deployment " + now->active->name + " of " + req.app +
                           " is running; wait for it to end, or roll back to stop it");
  }
  Outcome o;
  o.app = req.app;
  o.slot = kProductionSlot;
  o.kind = "promote";
  o.fromVersion = now->running;
  std::string running_manifest;
  if (now->running > 0) {
    auto rv = deps_.store->GetVersion(req.app, now->running);
    if (!rv.ok()) return rv.error();
    running_manifest = rv->manifest;
    if (rv->contentHash == source->contentHash) {
      o.noop = true;
      o.version = now->running;
      o.message = req.app + " v" + std::to_string(now->running) + " in production already has " +
                  "the content of v" + std::to_string(req.version) + "; nothing to do";
      return o;
    }
  }
  // The bits of the promoted version must still be there before anything changes.
  auto release = ReleaseDirFor(deps_, req.app, req.version);
  if (!release.ok()) return release.error();
  auto versions = deps_.store->ListVersions(req.app);
  if (!versions.ok()) return versions.error();
  int next = NextVersionNumber(*versions);
  o.diff = UnifiedDiff(running_manifest, source->manifest, VersionLabel(req.app, now->running),
                       VersionLabel(req.app, next) + " (= v" + std::to_string(req.version) + ")");
  if (req.whatIf) {
    o.whatIf = true;
    o.version = next;
    auto plan = PlanFor(deps_, req.app, kProductionSlot, req.version);
    if (!plan.ok()) return plan.error();
    o.strategy = plan->strategy;
    for (auto& op : plan->operations) o.plan.push_back(op.step);
    o.message = "would create " + req.app + " v" + std::to_string(next) + " equal to v" +
                std::to_string(req.version) + " and deploy it to production";
    return o;
  }
  Version v = *source;
  v.promotedFrom = req.version;
  v.verdict = Verdict::kUntested;
  v.createdAt = deps_.clock->NowMillis();
  auto number = deps_.store->AddVersion(v);
  if (!number.ok()) return number.error();
  o.newVersion = true;
  o.version = *number;
  Prepared p;
  p.deployment.app = req.app;
  p.deployment.version = *number;
  p.deployment.kind = DeploymentKind::kPromote;
  p.deployment.actor = req.actor;
  p.deployment.rollbackOnError = "lastSuccessful";
  p.deployment.fromVersion = now->running;
  p.deployment.reason = "promoted from v" + std::to_string(req.version);
  p.outcome = o;
  return StartDeployment(std::move(p), /*preempt=*/false);
}

}  // namespace lastgood
