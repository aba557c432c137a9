// SlotNow: what a slot runs and what a running deployment brings in — the facts every
// intent (apply, rollback, rollforward, promote) starts from. Internal to the engine.
#pragma once

#include <optional>
#include <string>

#include "history/model.h"
#include "store/store.h"

namespace lastgood {

struct SlotNow {
  std::string slot;
  int running = 0;                   // the slot's committed version (0: none)
  std::optional<Deployment> active;  // the Running deployment of the app, if any
  // The version being left: what a running deployment into this slot brings in, else
  // what the slot runs.
  int current() const { return active && active->slot == slot ? active->version : running; }
};

Result<SlotNow> ReadSlot(Store& store, const std::string& app, const std::string& slot);
// NotFound with a hint when the app has never been applied.
Status RequireApp(Store& store, const std::string& app);
// "web v3", or "(nothing)" for version 0.
std::string VersionLabel(const std::string& app, int v);

}  // namespace lastgood
