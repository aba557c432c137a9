// The engine's rollback and rollforward intents: a new deployment of the last good version
// (or --to N) and of a newer one. Which version is decided by history/rules.h.
#include <filesystem>

#include "engine/diff.h"
#include "engine/engine.h"
#include "engine/release.h"
#include "engine/secret_env.h"
#include "engine/slot_now.h"
#include "history/reasons.h"
#include "history/rules.h"

namespace lastgood {
namespace {

// How many of a slot's newest records are searched for why a version is bad.
constexpr int kExplainingRecords = 200;

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
  // Before anything stops: the target's bits must be there (DESIGN.md section 4), and the
  // secrets it refers to, whose current values its instances will start with.
  auto target_manifest = LoadManifest(deps, app, target);
  if (!target_manifest.ok()) return target_manifest.error();
  LG_RETURN_IF_ERROR(RequireSecretsOf(deps, app, target, *target_manifest));
  if (!what_if) {
    auto release = ReleaseDirFor(deps, app, target);
    if (!release.ok()) {
      return Error::Unavailable("cannot " + std::string(KindName(kind)) + " to v" +
                                std::to_string(target) + ": " + release.error().message +
                                "; nothing was changed");
    }
  }
  if (what_if) {
    // Otherwise the plan is made as the deployment starts (engine.cc), as things are then.
    auto plan = PlanFor(deps, app, now.slot, target, kind);
    if (!plan.ok()) return plan.error();
    o.strategy = plan->strategy;
    for (const auto& op : plan->operations) o.plan.push_back(PlanLine(op));
    o.whatIf = true;
    o.message = "would " + std::string(KindName(kind)) + " " + now.slot + " of " + app + " from v" +
                std::to_string(o.fromVersion) + " to v" + std::to_string(target);
  }
  return o;
}

Result<Outcome> Engine::Rollback(const RollRequest& req) {
  const auto received = deps_.clock->Steady();
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  LG_RETURN_IF_ERROR(ValidateName(req.slot, "slot name", "--slot"));
  auto now = ReadSlot(*deps_.store, req.app, req.slot);
  if (!now.ok()) return now.error();
  auto versions = deps_.store->ListVersions(req.app);
  if (!versions.ok()) return versions.error();
  auto last_good = deps_.store->LastGood(req.app, req.slot, now->current());
  if (!last_good.ok()) return last_good.error();
  // The newest records only explain a refusal of --to ("its deployment deploy-3-7 failed").
  std::vector<Deployment> recent;
  if (req.to) {
    auto finished = deps_.store->FinishedDeployments(req.app, req.slot, kExplainingRecords);
    if (!finished.ok()) return finished.error();
    recent = std::move(*finished);
  }
  auto target = RollbackTarget(*versions, recent, *last_good, now->current(), req.to, req.force);
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
  // A failed rollback is not rolled back again.
  p.deployment.rollbackOnError = RollbackOnError::None();
  p.deployment.fromVersion = now->current();
  p.deployment.reason = std::string(kReasonRolledBackTo) + " " + std::to_string(*target);
  p.received = received;
  p.outcome = *prepared;
  return StartDeployment(std::move(p), /*preempt=*/true);
}

Result<Outcome> Engine::Rollforward(const RollRequest& req) {
  const auto received = deps_.clock->Steady();
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
  p.deployment.rollbackOnError = RollbackOnError::LastSuccessful();
  p.deployment.fromVersion = now->current();
  p.received = received;
  p.outcome = *prepared;
  return StartDeployment(std::move(p), /*preempt=*/false);
}

}  // namespace lastgood
