// The engine's promote intent (Logic Apps): an old version's content becomes the newest
// version, deployed to production.
#include "engine/diff.h"
#include "engine/engine.h"
#include "engine/release.h"
#include "engine/secret_env.h"
#include "engine/slot_now.h"
#include "history/reasons.h"
#include "history/rules.h"

namespace lastgood {

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
  // The bits of the promoted version, and the secrets it refers to, must still be there
  // before anything changes.
  auto release = ReleaseDirFor(deps_, req.app, req.version);
  if (!release.ok()) return release.error();
  auto source_manifest = LoadManifest(deps_, req.app, req.version);
  if (!source_manifest.ok()) return source_manifest.error();
  LG_RETURN_IF_ERROR(RequireSecretsOf(deps_, req.app, req.version, *source_manifest));
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
    for (auto& op : plan->operations) o.plan.push_back(PlanLine(op));
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
  p.deployment.rollbackOnError = RollbackOnError::LastSuccessful();
  p.deployment.fromVersion = now->running;
  p.deployment.reason = kReasonPromotedFrom + std::to_string(req.version);
  p.outcome = o;
  return StartDeployment(std::move(p), /*preempt=*/false);
}

}  // namespace lastgood
