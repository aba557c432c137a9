// The engine's traffic intent (`lastgood traffic web staging=10`): the share of production's
// new clients that each other slot takes, stored and then in force at the router.
#include "engine/engine.h"
#include "engine/fleet_plan.h"
#include "engine/host_scope.h"
#include "engine/routes.h"
#include "engine/slot_now.h"

namespace lastgood {

Result<Outcome> Engine::SetTraffic(const TrafficRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  // A fleet app's shares are in force on each of its hosts' routers: every host that runs it
  // must answer now, or nothing changes.
  auto hosts = HostsRunning(deps_, req.app);
  if (!hosts.ok()) return hosts.error();
  for (const auto& h : *hosts) {
    std::string problem;
    if (!HostReachable(deps_, h, &problem)) {
      return Error::Unavailable("host " + h + " runs " + req.app + " and cannot be reached (" +
                                problem + "): the shares could not be put in force there; " +
                                "nothing was changed");
    }
  }
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
  for (const auto& h : *hosts) {  // host by host, each router's table in force before the next
    auto scoped = ForHost(deps_, h);
    if (!scoped.ok()) return scoped.error();
    if (auto s = scoped->routes->Publish(); !s.ok()) {
      return Error::Unavailable("the shares are stored, but host " + h +
                                "'s router did not take them: " + s.error().message +
                                "; run the same command again once it answers");
    }
  }
  o.message =
      "new clients of " + req.app + " go: " + split + " (each pinned by its lastgood-slot cookie)";
  if (!hosts->empty())
    o.message += ", on the routers of " + std::to_string(hosts->size()) + " hosts";
  return o;
}

}  // namespace lastgood
