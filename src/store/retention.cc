#include "store/retention.h"

#include <set>

#include "history/retention.h"

namespace lastgood {

Result<int> ApplyRetention(Store& store, const std::string& app, int keep) {
  if (keep <= 0) return 0;
  // The common case, within the policy, costs one index lookup of keep + 1 rows.
  auto newest = store.ListDeployments(app, keep + 1);
  if (!newest.ok()) return newest.error();
  if (static_cast<int>(newest->size()) <= keep) return 0;
  auto deployments = store.ListDeployments(app, 0);
  if (!deployments.ok()) return deployments.error();
  auto slots = store.ListSlots(app);
  if (!slots.ok()) return slots.error();
  // Every slot with records, whether or not it runs a version now, keeps its last good.
  std::set<std::string> slot_names;
  for (const SlotRecord& s : *slots) slot_names.insert(s.slot);
  for (const Deployment& d : *deployments) slot_names.insert(d.slot);
  std::vector<SlotRunning> running;
  for (const std::string& name : slot_names) {
    int version = 0;
    for (const SlotRecord& s : *slots) {
      if (s.slot == name) version = s.version;
    }
    auto last_good = store.LastGood(app, name, version);
    if (!last_good.ok()) return last_good.error();
    running.push_back({name, version, *last_good});
  }
  std::vector<std::string> names = RecordsToPrune(*deployments, running, keep);
  if (names.empty()) return 0;
  return store.PruneDeployments(app, names);
}

}  // namespace lastgood
