#include "engine/slot_now.h"

namespace lastgood {

Result<SlotNow> ReadSlot(Store& store, const std::string& app, const std::string& slot) {
  SlotNow now;
  now.slot = slot;
  auto slots = store.ListSlots(app);
  if (!slots.ok()) return slots.error();
  for (const auto& s : *slots) {
    if (s.slot == slot) now.running = s.version;
  }
  auto running = store.RunningDeployments();
  if (!running.ok()) return running.error();
  for (auto& d : *running) {
    if (d.app == app) now.active = d;
  }
  return now;
}

Status RequireApp(Store& store, const std::string& app) {
  auto apps = store.ListApps();
  if (!apps.ok()) return apps.error();
  for (const auto& a : *apps) {
    if (a.name == app) return Status::Ok();
  }
  return Error::NotFound("there is no app '" + app + "'; `lastgood apps` lists them");
}

std::string VersionLabel(const std::string& app, int v) {
  return v == 0 ? "(nothing)" : app + " v" + std::to_string(v);
}

}  // namespace lastgood
