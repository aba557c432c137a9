// recreate: the old version stops entirely before the new one starts (a short outage, for
// apps that cannot run two versions side by side).
#include "engine/strategies/strategies.h"

namespace lastgood {

void PlanRecreate(std::vector<Step>& steps, const PlanInput& in) {
  if (in.oldInstances > 0) steps.push_back(MakeStep(Step::Op::kStopOld, in.version, 0));
  steps.push_back(MakeStep(Step::Op::kStart, in.version, in.replicas));
}

}  // namespace lastgood
