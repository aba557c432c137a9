// The finish step: the slot's record says what it runs now, with the version's sticky
// settings; leftovers of other versions stop and the step waits for their drains, so that a
// deployment never ends with an instance still stopping. A swap's finish marks its phase.
#include "engine/drainer.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"
#include "engine/swap.h"

namespace lastgood {

StepResult RunFinish(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  if (!step.name.empty()) {
    // A swap's slots changed at its switch; the phases' ends are marked here.
    const std::string& source = SwapSource(d);
    if (step.name == "preview") {
      auto s = deps.store->SetSwapPending(d.app, d.slot, source);
      if (!s.ok()) return StepResult::Failed(s.error().message);
      return StepResult::Ok(source + " runs v" + std::to_string(step.version) + " with " + d.slot +
                            "'s settings; `lastgood swap " + d.app + " --complete` or `--cancel`");
    }
    if (auto s = deps.store->SetSwapPending(d.app, d.slot, ""); !s.ok())
      return StepResult::Failed(s.error().message);
    return StepResult::Ok(step.name == "cancel"
                              ? "the swap is canceled"
                              : d.slot + " runs v" + std::to_string(step.version));
  }
  SlotInstances slot(deps, d.app, step.slot.empty() ? d.slot : step.slot,
                     [&ctx] { return ctx.Interrupted(); });
  // Leftovers of other versions (a step interrupted between start and stop) go now.
  StepResult r = slot.StopOthers(step.version, 0, KeepWarm(d, m), WarmUntil(deps, m));
  if (r.kind != StepResult::Kind::kOk) return r;
  r = slot.StopStaleWarm(KeepWarm(d, m));
  if (r.kind != StepResult::Kind::kOk) return r;
  // The deployment ends with the slot as it says: no instance still stopping.
  if (deps.drainer) deps.drainer->WaitIdle(d.app);
  SlotRecord rec;
  rec.app = d.app;
  rec.slot = d.slot;
  rec.version = step.version;
  rec.weight = d.slot == kProductionSlot ? 100 : 0;
  rec.stickyEnv = StickyJson(m);  // a deployment brings its version's sticky settings
  if (auto s = deps.store->SetSlot(rec); !s.ok()) return StepResult::Failed(s.error().message);
  if (auto s = deps.store->SetCanary(d.app, d.slot, 0, 0); !s.ok())
    return StepResult::Failed(s.error().message);
  return StepResult::Ok(d.slot + " runs v" + std::to_string(step.version));
}

}  // namespace lastgood
