// The weight step: the canary's share of its slot's requests, stored, then in force at the
// router.
#include "engine/routes.h"
#include "engine/steps/steps.h"

namespace lastgood {

StepResult RunWeight(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  auto s = deps.store->SetCanary(d.app, d.slot, step.version, step.count);
  if (!s.ok()) return StepResult::Failed(s.error().message);
  auto start = deps.clock->Steady();
  if (deps.routes) {
    if (auto p = deps.routes->Publish(); !p.ok())
      return StepResult::Failed("the router did not take the new table: " + p.error().message);
  }
  return StepResult::Ok("canary v" + std::to_string(step.version) + " takes " +
                        std::to_string(step.count) + "% (in force after " +
                        FormatMillis(deps.clock->Steady() - start) + ")");
}

}  // namespace lastgood
