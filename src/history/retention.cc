#include "history/retention.h"

#include <algorithm>
#include <set>

#include "history/rules.h"

namespace lastgood {
namespace {

// The newest Succeeded record of `slot` (of `version`, unless 0), or nullptr.
const Deployment* NewestSucceeded(const std::vector<const Deployment*>& by_id,
                                  const std::string& slot, int version) {
  for (auto it = by_id.rbegin(); it != by_id.rend(); ++it) {
    const Deployment& d = **it;
    if (d.slot == slot && d.state == DeploymentState::kSucceeded &&
        (version == 0 || d.version == version)) {
      return &d;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> RecordsToPrune(const std::vector<Deployment>& deployments,
                                        const std::vector<SlotRunning>& slots, int keep) {
  if (keep <= 0) return {};
  std::vector<const Deployment*> by_id;
  for (const Deployment& d : deployments) by_id.push_back(&d);
  std::sort(by_id.begin(), by_id.end(),
            [](const Deployment* a, const Deployment* b) { return a->id < b->id; });
  int ended = 0;
  for (const Deployment* d : by_id) ended += IsFinal(d->state) ? 1 : 0;
  int excess = ended - keep;
  if (excess <= 0) return {};

  std::set<int> running_versions;
  std::set<std::string> slot_names;
  for (const SlotRunning& s : slots) {
    slot_names.insert(s.slot);
    if (s.version > 0) running_versions.insert(s.version);
  }
  for (const Deployment* d : by_id) slot_names.insert(d->slot);
  std::set<const Deployment*> protect;
  for (const std::string& slot : slot_names) {
    std::optional<int> last_good;
    for (const SlotRunning& s : slots) {
      if (s.slot == slot) last_good = s.lastGood;
    }
    if (const Deployment* d = NewestSucceeded(by_id, slot, 0)) protect.insert(d);
    if (last_good) {
      if (const Deployment* d = NewestSucceeded(by_id, slot, *last_good)) protect.insert(d);
    }
  }

  std::vector<std::string> out;
  for (const Deployment* d : by_id) {
    if (static_cast<int>(out.size()) == excess) break;
    if (!IsFinal(d->state) || protect.count(d) || running_versions.count(d->version)) continue;
    out.push_back(d->name);
  }
  return out;
}

}  // namespace lastgood
