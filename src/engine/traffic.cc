// The engine's traffic intent (`lastgood traffic web staging=10`): the share of production's
// new clients that each other slot takes, stored and then in force at the router.
#include "engine/engine.h"
#include "engine/fleet_plan.h"
#include "engine/routes.h"
#include "engine/slot_now.h"

namespace lastgood {

Result<Outcome> Engine::SetTraffic(const TrafficRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  LG_RETURN_IF_ERROR(RefuseOnFleet(deps_, req.app, "traffic"));
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

}  // namespace lastgood
