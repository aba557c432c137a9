// The engine's slot intents (issue 4): swap, traffic shares, and pause / resume / abort of
// the running deployment.
#include "engine/engine.h"
#include "engine/plan.h"
#include "engine/routes.h"
#include "engine/slot_now.h"
#include "engine/swap.h"

namespace lastgood {

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

Result<Outcome> Engine::SetTraffic(const TrafficRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  if (req.shares.empty()) {
    return Error::InvalidInput("name at least one slot and its share, like staging=10", "shares");
  }
  auto slots = deps_.store->ListSlots(req.app);
  if (!slots.ok()) return slots.error();
  int total = 0;
  std::map<std::string, int> after;
  for (const auto& s : *slots) {
    if (s.slot != kProductionSlot) after[s.slot] = s.weight;
  }
  for (const auto& [slot, share] : req.shares) {
    LG_RETURN_IF_ERROR(ValidateName(slot, "slot name", "shares." + slot));
    if (slot == kProductionSlot) {
      return Error::InvalidInput(
          "production takes what the other slots do not; give the other slots' shares",
          "shares.production");
    }
    if (share < 0 || share > 100) {
      return Error::InvalidInput("a share is a percentage, 0..100; got " + std::to_string(share),
                                 "shares." + slot);
    }
    if (!after.count(slot)) {
      return Error::NotFound("slot " + slot + " of " + req.app + " runs no version; deploy to " +
                             "it first: lastgood apply -f FILE --slot " + slot);
    }
    after[slot] = share;
  }
  for (const auto& [slot, share] : after) total += share;
  if (total > 100) {
    return Error::InvalidInput(
        "the shares add up to " + std::to_string(total) + "%, more than 100%", "shares");
  }
  Outcome o;
  o.app = req.app;
  o.slot = kProductionSlot;
  o.kind = "traffic";
  std::string split;
  for (const auto& [slot, share] : after) {
    split += (split.empty() ? "" : ", ") + slot + " " + std::to_string(share) + "%";
  }
  split += ", production " + std::to_string(100 - total) + "%";
  if (req.whatIf) {
    o.whatIf = true;
    o.message = "would send production's new clients: " + split;
    return o;
  }
  for (const auto& [slot, share] : req.shares) {
    LG_RETURN_IF_ERROR(deps_.store->SetSlotWeight(req.app, slot, share));
  }
  if (deps_.routes) LG_RETURN_IF_ERROR(deps_.routes->Publish());
  o.message =
      "new clients of " + req.app + " go: " + split + " (each pinned by its lastgood-slot cookie)";
  return o;
}

Result<Outcome> Engine::Control(const ControlRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  auto now = ReadSlot(*deps_.store, req.app, kProductionSlot);
  if (!now.ok()) return now.error();
  if (!now->active) {
    return Error::Conflict("no deployment of " + req.app + " is running; nothing to " + req.action);
  }
  const Deployment& d = *now->active;
  Outcome o;
  o.app = req.app;
  o.deployment = d.name;
  o.version = d.version;
  o.slot = d.slot;
  o.kind = req.action;
  std::string intent;
  if (req.action == "pause") {
    intent = "pause";
    o.message = d.name + " pauses before its next step; `lastgood resume " + req.app + "` goes on";
  } else if (req.action == "resume") {
    // A resume answers a pause: the user's own, or a pause step under way. Accepted at any
    // other moment, it would wait in the store and end a later `pause: untilResumed` at once.
    auto held = deps_.store->GetIntent(req.app, d.name);
    if (!held.ok()) return held.error();
    bool in_pause_step = false;
    if (d.cursor >= 0 && d.cursor < static_cast<int>(d.operations.size())) {
      auto step = StepFromJson(d.operations[d.cursor].spec);
      in_pause_step = step.ok() && step->op == Step::Op::kPause;
    }
    if (!in_pause_step && held->value_or("") != "pause") {
      std::string at = d.cursor < static_cast<int>(d.operations.size())
                           ? " (it is at: " + d.operations[d.cursor].step + ")"
                           : "";
      return Error::Conflict(d.name + " is not paused" + at + "; nothing to resume");
    }
    intent = "resume";
    o.message = d.name + " goes on";
  } else if (req.action == "abort") {
    if (d.kind == DeploymentKind::kRollback) {
      return Error::Conflict(d.name + " is a rollback; it is not aborted (roll forward after it)");
    }
    intent = "abort:" + req.actor;
    o.message = d.name + " is aborted: traffic goes back to the last good version, and v" +
                std::to_string(d.version) + " is marked bad";
  } else {
    return Error::InvalidInput("unknown action '" + req.action + "'; use pause, resume or abort",
                               "action");
  }
  if (req.whatIf) {
    o.whatIf = true;
    o.message = "would: " + o.message;
    return o;
  }
  LG_RETURN_IF_ERROR(deps_.store->SetIntent(req.app, d.name, intent));
  Notify();
  return o;
}

}  // namespace lastgood
