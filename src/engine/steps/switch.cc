// The switch step — where a slot swap happens: the two slots exchange places in the store
// (one transaction), then at the router (one table change). Used by `lastgood swap`, by a
// bluegreen deployment going live and by its swap back. What production ran before stays
// warm in the other slot for keepPrevious, so that a rollback is a swap back.
#include <algorithm>
#include <set>

#include "engine/fleet_record.h"
#include "engine/routes.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"

namespace lastgood {
namespace {

// The fleet hosts whose instances the store's exchange leaves in their slots: every host that
// runs the app and that this deployment does not switch — one that failed before its switch
// (its smoke test, a start, unreachable: it serves what it served), one that ran nothing of
// the app and was started straight in production, one no longer selected. None on one machine.
Result<std::vector<std::string>> KeptHosts(const EngineDeps& deps, const Deployment& d) {
  if (!IsFleet(d)) return std::vector<std::string>{};
  const auto failed = FailedHosts(d);
  std::set<std::string> switching;
  for (const auto& op : d.operations) {
    auto s = StepFromJson(op.spec);
    if (s.ok() && s->op == Step::Op::kSwitch && !op.host.empty() && !failed.count(op.host))
      switching.insert(op.host);
  }
  auto instances = deps.store->ListInstances(d.app);
  if (!instances.ok()) return instances.error();
  std::set<std::string> kept;
  for (const auto& i : *instances) {
    if (!i.host.empty() && !switching.count(i.host)) kept.insert(i.host);
  }
  return std::vector<std::string>(kept.begin(), kept.end());
}

}  // namespace

StepResult RunSwitch(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  const std::string& source = step.slot;
  auto slots = deps.store->ListSlots(d.app);
  if (!slots.ok()) return StepResult::Failed(slots.error().message);
  const SlotRecord* src = nullptr;
  const SlotRecord* dst = nullptr;
  for (const auto& s : *slots) {
    if (s.slot == source) src = &s;
    if (s.slot == d.slot) dst = &s;
  }
  // Re-run after a crash between the store's switch and the step's end: switching again
  // would switch back. The target running the step's version, and the source not, is the
  // switch done.
  const bool switched =
      dst && dst->version == step.version && (src == nullptr || src->version != step.version);
  if (!switched && d.kind != DeploymentKind::kSwap) {
    // bluegreen (and its swap back): the preview slot's record says what it now runs.
    SlotRecord rec;
    rec.app = d.app;
    rec.slot = source;
    rec.version = step.version;
    rec.weight = 0;
    if (src) rec.stickyEnv = src->stickyEnv;
    if (src == nullptr || src->version != step.version) {
      if (auto s = deps.store->SetSlot(rec); !s.ok()) return StepResult::Failed(s.error().message);
    }
  }
  // Timed in two parts: the store's transaction (its commit waits for the disk) and the
  // router's table change (in force before the router's own fsync; docs/performance.md).
  const auto start = deps.clock->Steady();
  if (!switched) {
    auto kept = KeptHosts(deps, d);
    if (!kept.ok()) return StepResult::Failed(kept.error().message);
    if (auto s = deps.store->SwapSlots(d.app, source, d.slot, *kept); !s.ok())
      return StepResult::Failed(s.error().message);
  }
  const auto stored = deps.clock->Steady();
  if (deps.routes) {
    if (auto p = deps.routes->Publish(); !p.ok())
      return StepResult::Failed("the router did not take the new table: " + p.error().message);
  }
  const auto routed = deps.clock->Steady();
  // A fleet swap switches host by host: the first host's step exchanges the slots in the
  // store, each puts its own router's table in force.
  std::string detail =
      !step.host.empty()
          ? d.slot + " runs v" + std::to_string(step.version) + " on " + step.host + " (" +
                (switched
                     ? ""
                     : "slots exchanged in the store in " + FormatMillis(stored - start) + ", ") +
                "its router's table in force in " + FormatMillis(routed - stored) + ")"
          : d.slot + " runs v" + std::to_string(step.version) +
                (switched ? " (switched before a restart; the router's table sent again in " +
                                FormatMillis(routed - stored) + ")"
                          : " (switched in " + FormatMillis(routed - start) + ": store " +
                                FormatMillis(stored - start) + ", router " +
                                FormatMillis(routed - stored) + ")");
  if (d.kind == DeploymentKind::kSwap) return StepResult::Ok(detail);
  // What production ran now sits in the preview slot, still warm: a rollback is a swap back.
  // It stays for keepPrevious (at least past the bake), unless it is being left because it
  // failed.
  auto instances = deps.store->ListInstances(d.app);
  if (!instances.ok()) return StepResult::Failed(instances.error().message);
  const bool keep = d.trigger != Trigger::kAuto;
  const int64_t until = deps.clock->NowMillis() +
                        std::max<int64_t>(m.rollback.keepPrevious.count(), m.bake.count() + 60'000);
  std::vector<InstanceRecord> leave;
  for (auto rec : *instances) {
    // A fleet host's step keeps or retires that host's own (its node stops them).
    if (rec.slot != source || rec.version == step.version || rec.host != deps.host) continue;
    if (!keep) {
      leave.push_back(rec);
      continue;
    }
    rec.warmUntil = until;
    if (auto s = deps.store->PutInstance(rec); !s.ok())
      return StepResult::Failed(s.error().message);
  }
  SlotInstances preview(deps, d.app, source, [] { return StepResult::Kind::kOk; });
  if (StepResult r = preview.Retire(leave); r.kind != StepResult::Kind::kOk) return r;
  return StepResult::Ok(detail + (keep ? "; the previous version stays in " + source : ""));
}

}  // namespace lastgood
