// The return to a version that is still warm (keepPrevious): whatever the strategy, its
// instances take the traffic back at once, in one table change (the takeWarm step, which a
// rollback's start carries out before anything else when it can: engine/warm_switch.h).
#include "engine/strategies/strategies.h"

namespace lastgood {

void PlanWarmReturn(std::vector<Step>& steps, const PlanInput& in) {
  const int v = in.version;
  if (in.previewInstances >= in.replicas) {
    // Kept in the preview slot by a bluegreen switch: a swap back.
    steps.push_back(MakeStep(Step::Op::kSwitch, v, 0, Millis(0), kPreviewSlot));
    return;
  }
  steps.push_back(MakeStep(Step::Op::kTakeWarm, v, in.replicas));
}

}  // namespace lastgood
