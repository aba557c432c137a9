#include "store/retention.h"

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
  std::vector<SlotRunning> running;
  for (const SlotRecord& s : *slots) running.push_back({s.slot, s.version});
  std::vector<std::string> names = RecordsToPrune(*deployments, running, keep);
  if (names.empty()) return 0;
  return store.PruneDeployments(app, names);
}

}  // namespace lastgood
