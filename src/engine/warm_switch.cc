#include "engine/warm_switch.h"

#include "engine/slot_instances.h"

namespace lastgood {

Result<std::optional<std::vector<InstanceRecord>>> WarmSwitch(const EngineDeps& deps,
                                                              const std::string& app,
                                                              const std::string& slot, int version,
                                                              int count, int keep_version,
                                                              int64_t keep_until) {
  auto listed = deps.store->ListInstances(app);
  if (!listed.ok()) return listed.error();
  const int64_t now = deps.clock->NowMillis();
  int ready = 0;
  std::vector<InstanceRecord> warm, others;
  for (const auto& rec : *listed) {
    if (rec.slot != slot || rec.host != deps.host) continue;  // a fleet host's own (host_scope.h)
    if (rec.version != version) {
      if (IsLive(rec)) others.push_back(rec);
    } else if (rec.state == InstanceState::kReady) {
      ++ready;
    } else if (rec.state == InstanceState::kWarm) {
      // Supervised all along; one that died meanwhile does not count.
      auto st = deps.target->Status(rec.id);
      if (st.ok() && st->alive) warm.push_back(rec);
    }
  }
  const int need = count - ready;
  if (need <= 0 && others.empty())
    return std::optional<std::vector<InstanceRecord>>(std::vector<InstanceRecord>{});
  if (need > static_cast<int>(warm.size())) return std::optional<std::vector<InstanceRecord>>();
  std::vector<InstanceRecord> changes;
  for (int i = 0; i < need; ++i) {
    InstanceRecord rec = warm[i];
    rec.state = InstanceState::kReady;
    rec.warmUntil = 0;
    changes.push_back(rec);
  }
  for (InstanceRecord rec : others) {
    const bool keep =
        keep_version != 0 && rec.version == keep_version && rec.state == InstanceState::kReady;
    rec.state = InstanceState::kWarm;
    rec.warmUntil = keep ? keep_until : now;  // expired: the next StopStaleWarm retires it
    changes.push_back(rec);
  }
  return std::optional<std::vector<InstanceRecord>>(std::move(changes));
}

}  // namespace lastgood
