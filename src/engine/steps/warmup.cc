// The warm-up step: before a swap moves traffic, every instance about to go live answers
// the version's warm-up request (swap.warmupPath, else its readiness path) with an accepted
// status, by the progress deadline.
#include <algorithm>

#include "engine/release.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"
#include "health/probe.h"

namespace lastgood {

StepResult RunWarmup(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  auto instances = deps.store->ListInstances(d.app);
  if (!instances.ok()) return StepResult::Failed(instances.error().message);
  auto vm = LoadManifest(deps, d.app, step.version);
  if (!vm.ok()) return StepResult::Failed(vm.error().message);
  const SwapOptions& warm = vm->swap;
  const auto deadline = deps.clock->Steady() + ctx.manifest().progressDeadline;
  int warmed = 0;
  for (const auto& i : *instances) {
    // On a fleet host, that host's instances, probed there by its node.
    if (i.host != deps.host || i.slot != step.slot || i.version != step.version || !IsLive(i))
      continue;
    if (i.state != InstanceState::kReady)
      return StepResult::Failed("instance " + i.id + " is " + InstanceStateName(i.state) +
                                ", not ready");
    for (;;) {
      ProbeSpec spec;
      spec.kind = ProbeSpec::Kind::kHttp;
      spec.port = i.port;
      spec.path =
          warm.warmupPath.empty()
              ? (vm->readiness && vm->readiness->kind == Probe::Kind::kHttp ? vm->readiness->path
                                                                            : "/")
              : warm.warmupPath;
      ProbeResult r = ProbeOn(deps, spec);
      bool accepted = warm.warmupStatuses.empty()
                          ? r.httpStatus >= 200 && r.httpStatus <= 299
                          : std::count(warm.warmupStatuses.begin(), warm.warmupStatuses.end(),
                                       r.httpStatus) > 0;
      if (accepted) break;
      if (deps.clock->Steady() >= deadline)
        return StepResult::Failed("warm-up of " + i.id +
                                  " not accepted by the deadline: " + r.detail);
      if (!ctx.Sleep(Millis(100))) return {ctx.Interrupted(), ""};
    }
    ++warmed;
  }
  if (warmed == 0)
    return StepResult::Failed("no instance of v" + std::to_string(step.version) + " in " +
                              step.slot);
  return StepResult::Ok(std::to_string(warmed) + " instances warmed up");
}

}  // namespace lastgood
