// The steps that make a slot's instances match the plan: prepare, start, stop old, bake,
// and a swap's settings. SlotInstances (engine/slot_instances.h) does the work; these say
// which version, how many, and what stays warm.
#include "engine/release.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"

namespace lastgood {
namespace {

SlotInstances SlotOf(StepContext& ctx, const Step& step) {
  const Deployment& d = ctx.deployment();
  return SlotInstances(ctx.deps(), d.app, step.slot.empty() ? d.slot : step.slot,
                       [&ctx] { return ctx.Interrupted(); });
}

}  // namespace

int KeepWarm(const Deployment& d, const Manifest& m) {
  // The version being left stays warm for keepPrevious — unless it is being left because
  // it failed: nobody rolls forward to a release that just broke.
  if (m.rollback.keepPrevious.count() <= 0 || d.trigger == Trigger::kAuto) return 0;
  return d.fromVersion;
}

int64_t WarmUntil(const EngineDeps& deps, const Manifest& m) {
  return deps.clock->NowMillis() + m.rollback.keepPrevious.count();
}

StepResult RunPrepare(StepContext& ctx, const Step& step) {
  auto release = ReleaseDirFor(ctx.deps(), ctx.deployment().app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  return StepResult::Ok("release directory " + *release);
}

StepResult RunStart(StepContext& ctx, const Step& step) {
  auto release = ReleaseDirFor(ctx.deps(), ctx.deployment().app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  return SlotOf(ctx, step).EnsureReady(step.version, ctx.manifest(), *release, step.count);
}

StepResult RunStopOld(StepContext& ctx, const Step& step) {
  const Manifest& m = ctx.manifest();
  return SlotOf(ctx, step).StopOthers(step.version, step.count, KeepWarm(ctx.deployment(), m),
                                      WarmUntil(ctx.deps(), m));
}

StepResult RunBake(StepContext& ctx, const Step& step) {
  if (step.host.empty() && (step.wave > 0 || step.count == kBakeSwitchedHosts))
    return RunFleetBake(ctx, step);
  auto release = ReleaseDirFor(ctx.deps(), ctx.deployment().app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  return SlotOf(ctx, step).Bake(step.version, ctx.manifest(), *release);
}

StepResult RunSettings(StepContext& ctx, const Step& step) {
  const std::string& app = ctx.deployment().app;
  auto release = ReleaseDirFor(ctx.deps(), app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  // The instances of a version being swapped run that version's manifest.
  auto vm = LoadManifest(ctx.deps(), app, step.version);
  if (!vm.ok()) return StepResult::Failed(vm.error().message);
  return SlotOf(ctx, step).EnsureSettings(step.version, *vm, *release, step.name);
}

}  // namespace lastgood
