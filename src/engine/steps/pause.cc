// The pause step: waits its duration, or until `lastgood resume` — which also ends a timed
// pause early.
#include <algorithm>

#include "engine/steps/steps.h"

namespace lastgood {
namespace {

constexpr Millis kSlice{25};

}  // namespace

StepResult RunPause(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  if (step.duration.count() > 0) {
    auto start = deps.clock->Steady();
    auto until = start + step.duration;
    bool fresh = true;
    while (deps.clock->Steady() < until) {
      if (ctx.Intent(fresh) == IntentKind::kResume) {
        ctx.ClearIntent();
        return StepResult::Ok("resumed by the user after " +
                              FormatMillis(deps.clock->Steady() - start) + " of " +
                              FormatDuration(step.duration));
      }
      fresh = false;
      if (!ctx.Sleep(std::min<Millis>(
              kSlice, std::chrono::duration_cast<Millis>(until - deps.clock->Steady())))) {
        return {ctx.Interrupted(), ""};
      }
    }
    return StepResult::Ok("paused " + FormatDuration(step.duration));
  }
  ctx.Progress("waiting for `lastgood resume " + d.app + "`");
  ctx.Commit();
  bool fresh = true;
  while (ctx.Intent(fresh) != IntentKind::kResume) {
    fresh = false;
    if (!ctx.Sleep(kSlice)) return {ctx.Interrupted(), ""};
  }
  ctx.ClearIntent();
  return StepResult::Ok("resumed by the user");
}

}  // namespace lastgood
