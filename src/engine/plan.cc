#include "engine/plan.h"

#include "engine/strategies/strategies.h"

namespace lastgood {

std::vector<Step> PlanDeployment(const PlanInput& in) {
  std::vector<Step> steps;
  const int v = in.version, r = in.replicas;
  const bool warm = in.previewInstances >= r || in.warmInstances >= r;
  // Back to warm instances with no hook to run first: the switch is the very first step,
  // so that the traffic moves before anything else (bench/rollback).
  if (warm && in.preHook.empty()) PlanWarmReturn(steps, in);
  steps.push_back(MakeStep(Step::Op::kPrepare, v));
  if (!in.preHook.empty())
    steps.push_back(MakeStep(Step::Op::kHook, v, 0, Millis(0), "", in.preHook));
  const auto type = in.strategy.type;
  if (warm) {
    if (!in.preHook.empty()) PlanWarmReturn(steps, in);
  } else if (type == Strategy::Type::kRecreate) {
    PlanRecreate(steps, in);
  } else if (type == Strategy::Type::kCanary && in.oldInstances > 0) {
    PlanCanary(steps, in);
  } else if (type == Strategy::Type::kBlueGreen && in.oldInstances > 0) {
    PlanBlueGreen(steps, in);
  } else {
    PlanRolling(steps, v, r, in.oldInstances, in.strategy.rolling);
  }
  if (in.bake.count() > 0) steps.push_back(MakeStep(Step::Op::kBake, v, 0, in.bake));
  if (!in.postHook.empty())
    steps.push_back(MakeStep(Step::Op::kHook, v, 0, Millis(0), "", in.postHook));
  steps.push_back(MakeStep(Step::Op::kFinish, v));
  return steps;
}

}  // namespace lastgood
