// The strategies' plan builders, each in its own file: what PlanDeployment (engine/plan.h)
// appends between a deployment's common first steps (prepare, the pre hook) and its common
// last ones (bake, the post hook, finish). Internal to the engine; pure functions.
#pragma once

#include <string>
#include <vector>

#include "engine/plan.h"

namespace lastgood {

inline Step MakeStep(Step::Op op, int version, int count = 0, Millis duration = Millis(0),
                     std::string slot = "", std::string name = "") {
  return Step{op, version, count, duration, std::move(slot), std::move(name)};
}

// recreate: every old instance stops, then the `replicas` new ones start.
void PlanRecreate(std::vector<Step>& steps, const PlanInput& in);
// rolling: from `old` instances of other versions to `r` of `v`, by maxSurge / maxUnavailable.
void PlanRolling(std::vector<Step>& steps, int v, int r, int old, const RollingStrategy& rolling);
// canary: weights, pauses and analyses of the manifest's canary steps, then 100%.
void PlanCanary(std::vector<Step>& steps, const PlanInput& in);
// bluegreen: up in the preview slot, verified, switched.
void PlanBlueGreen(std::vector<Step>& steps, const PlanInput& in);
// A rollback to a version still warm (keepPrevious): all of it back in one table change,
// then the others retired; with it kept in the preview slot, a swap back.
void PlanWarmReturn(std::vector<Step>& steps, const PlanInput& in);

}  // namespace lastgood
