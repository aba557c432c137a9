// The takeWarm step: a return to a version still warm (keepPrevious) moves the slot's
// traffic to its instances in one table change (engine/warm_switch.h), then retires what is
// not kept. The switch's instance records are committed with the deployment's record, a
// commit that the hosts of a fleet wave share. A rollback's start has usually made the switch
// already, before its worker ran: this step then sends the table again (harmless) and
// retires. If an instance died while warm, the version is started as any start would be.
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"
#include "engine/warm_switch.h"

namespace lastgood {

StepResult RunTakeWarm(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  const std::string slot_name = step.slot.empty() ? d.slot : step.slot;
  SlotInstances slot(deps, d.app, slot_name, [&ctx] { return ctx.Interrupted(); });
  const int keep = KeepWarm(d, m);
  const int64_t until = WarmUntil(deps, m);
  auto changes = WarmSwitch(deps, d.app, slot_name, step.version, step.count, keep, until);
  if (!changes.ok()) return StepResult::Failed(changes.error().message);
  std::string detail;
  if (!*changes) {
    auto release = ReleaseDirFor(deps, d.app, step.version);
    if (!release.ok()) return StepResult::Failed(release.error().message);
    StepResult started = slot.EnsureReady(step.version, m, *release, step.count);
    if (started.kind != StepResult::Kind::kOk) return started;
    StepResult stopped = slot.StopOthers(step.version, 0, keep, until);
    if (stopped.kind != StepResult::Kind::kOk) return stopped;
    detail = "not all warm any more: " + started.detail +
             (stopped.detail.empty() ? "" : "; " + stopped.detail);
  } else {
    const auto start = deps.clock->Steady();
    // With the record, in one commit (which a fleet wave's hosts share).
    if (!(*changes)->empty()) {
      if (auto s = ctx.CommitWith(**changes); !s.ok()) return StepResult::Failed(s.error().message);
    }
    const auto stored = deps.clock->Steady();
    if (deps.routes) {
      if (auto p = deps.routes->Publish(); !p.ok())
        return StepResult::Failed("the router did not take the new table: " + p.error().message);
    }
    const auto routed = deps.clock->Steady();
    detail = (*changes)->empty()
                 ? d.slot + " runs v" + std::to_string(step.version) + "'s instances"
                 : d.slot + " runs v" + std::to_string(step.version) + " (switched in " +
                       FormatMillis(routed - start) + ": store " + FormatMillis(stored - start) +
                       ", router " + FormatMillis(routed - stored) + ")";
  }
  StepResult retired = slot.StopStaleWarm(keep);
  if (retired.kind != StepResult::Kind::kOk) return retired;
  if (!retired.detail.empty()) detail += "; " + retired.detail;
  return StepResult::Ok(detail);
}

}  // namespace lastgood
