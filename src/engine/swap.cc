#include "engine/swap.h"

#include "engine/fleet_plan.h"
#include "engine/host_scope.h"
#include "engine/release.h"
#include "engine/slot_instances.h"
#include "engine/slot_now.h"
#include "history/reasons.h"

namespace lastgood {

std::string SwapSource(const Deployment& d) {
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    if (step.ok() && !step->slot.empty()) return step->slot;
  }
  return "";
}

namespace {

// Refused, with nothing changed, unless a swap of a fleet app (or a phase of one) can act on
// every one of its hosts: every host reachable, and each running both slots (else a host
// would be left with a slot that serves nothing).
Status FleetSwapReady(const EngineDeps& deps, const std::string& app, const std::string& source,
                      const std::string& target, const std::vector<std::string>& hosts) {
  auto instances = deps.store->ListInstances(app);
  if (!instances.ok()) return instances.error();
  for (const auto& h : hosts) {
    std::string problem;
    if (!HostReachable(deps, h, &problem)) {
      return Error::Unavailable("host " + h + " runs " + app + " and cannot be reached (" +
                                problem + "): a swap would leave it behind; nothing was changed");
    }
    int in_source = 0, in_target = 0;
    for (const auto& i : *instances) {
      if (i.host != h || i.state != InstanceState::kReady) continue;
      in_source += i.slot == source;
      in_target += i.slot == target;
    }
    if (in_source == 0 || in_target == 0) {
      return Error::InvalidInput("host " + h + " runs no ready instance of " + app + " in " +
                                 (in_source == 0 ? source : target) +
                                 ": a swap would leave a slot there serving nothing; deploy "
                                 "both slots to the same hosts first; nothing was changed");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Deployment> SwapDeployment(const EngineDeps& deps, const std::string& app,
                                  const std::string& source, const std::string& target,
                                  const std::string& phase, Trigger trigger,
                                  const std::string& actor) {
  LG_RETURN_IF_ERROR(ValidateName(source, "slot name", "--source"));
  LG_RETURN_IF_ERROR(ValidateName(target, "slot name", "--target"));
  if (source == target) {
    return Error::InvalidInput("cannot swap " + source + " with itself; name two slots",
                               "--source");
  }
  auto slots = deps.store->ListSlots(app);
  if (!slots.ok()) return slots.error();
  const SlotRecord* from = nullptr;
  const SlotRecord* to = nullptr;
  for (const auto& s : *slots) {
    if (s.slot == source) from = &s;
    if (s.slot == target) to = &s;
  }
  if (!from || from->version == 0) {
    return Error::NotFound("slot " + source + " of " + app + " runs no version; deploy to it " +
                           "first: lastgood apply -f FILE --slot " + source);
  }
  if (!to || to->version == 0) {
    return Error::NotFound("slot " + target + " of " + app + " runs no version yet; deploy to " +
                           "it first");
  }
  const bool pending = to->swapPending == source;
  if ((phase == "complete" || phase == "cancel") && !pending) {
    return Error::Conflict("no swap of " + source + " into " + target + " is in preview; start " +
                           "one with lastgood swap " + app + " --preview");
  }
  if ((phase == "swap" || phase == "preview") && !to->swapPending.empty()) {
    return Error::Conflict("a swap of " + to->swapPending + " into " + target +
                           " is in preview; --complete or --cancel it first");
  }
  auto m = LoadManifest(deps, app, from->version);
  if (!m.ok()) return m.error();
  Deployment d;
  d.app = app;
  d.slot = target;
  d.version = phase == "cancel" ? to->version : from->version;
  d.fromVersion = phase == "cancel" ? to->version : to->version;
  d.kind = DeploymentKind::kSwap;
  d.strategy = "swap";
  d.trigger = trigger;
  d.actor = actor;
  // A failed swap leaves the target as it was: nothing to undo.
  d.rollbackOnError = RollbackOnError::None();
  d.reason = phase == "preview" ? "swap " + source + " into " + target + ": preview"
             : phase == "cancel"
                 ? "swap " + source + " into " + target + " canceled"
                 : "swap " + source + " (v" + std::to_string(from->version) + ") into " + target +
                       " (v" + std::to_string(to->version) + ")";
  // Swapping back the pair the last swap exchanged is that swap's rollback (App Service).
  if (phase == "swap" || phase == "complete") {
    auto finished = deps.store->FinishedDeployments(app, target, 1);
    if (finished.ok() && !finished->empty()) {
      const Deployment& last = finished->front();
      if (last.kind == DeploymentKind::kSwap && last.state == DeploymentState::kSucceeded &&
          last.version == to->version && last.fromVersion == from->version &&
          last.reason.rfind("swap " + source + " ", 0) == 0) {
        d.kind = DeploymentKind::kRollback;
        d.reason = std::string(kReasonSwapBackOf) + " " + last.name + ": " + target +
                   " returns to v" + std::to_string(from->version);
      }
    }
  }
  auto hosts = HostsRunning(deps, app);
  if (!hosts.ok()) return hosts.error();
  if (!hosts->empty()) {
    LG_RETURN_IF_ERROR(FleetSwapReady(deps, app, source, target, *hosts));
    d.operations = ToOperations("swap", PlanFleetSwap(source, target, phase, from->version,
                                                      to->version, *hosts))
                       .operations;
    return d;
  }
  d.operations =
      ToOperations("swap", PlanSwap(source, target, phase, from->version, to->version)).operations;
  return d;
}

Result<Outcome> Engine::Swap(const SwapRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  if (req.phase != "swap" && req.phase != "preview" && req.phase != "complete" &&
      req.phase != "cancel") {
    return Error::InvalidInput(
        "unknown swap phase '" + req.phase + "'; use swap, preview, complete or cancel", "phase");
  }
  auto d =
      SwapDeployment(deps_, req.app, req.source, req.target, req.phase, Trigger::kUser, req.actor);
  if (!d.ok()) return d.error();
  auto now = ReadSlot(*deps_.store, req.app, req.target);
  if (!now.ok()) return now.error();
  Outcome o;
  o.app = req.app;
  o.slot = req.target;
  o.kind = KindName(d->kind);
  o.strategy = "swap";
  o.version = d->version;
  o.fromVersion = d->fromVersion;
  for (const auto& op : d->operations) o.plan.push_back(op.step);
  if (req.whatIf) {
    o.whatIf = true;
    o.message = "would " + d->reason;
    return o;
  }
  if (now->active) {
    return Error::Conflict("deployment " + now->active->name + " of " + req.app +
                           " is running; wait for it to end, or roll back to stop it");
  }
  Prepared p;
  p.deployment = *d;
  p.outcome = o;
  p.operations = PlannedOperations{"swap", d->operations};
  return StartDeployment(std::move(p), /*preempt=*/false);
}

}  // namespace lastgood
