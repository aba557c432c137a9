// The return to a version that is still warm (keepPrevious): whatever the strategy, its
// instances are all brought back at once, so traffic moves in one table change.
#include "engine/strategies/strategies.h"

namespace lastgood {

void PlanWarmReturn(std::vector<Step>& steps, const PlanInput& in) {
  const int v = in.version;
  if (in.previewInstances >= in.replicas) {
    // Kept in the preview slot by a bluegreen switch: a swap back.
    steps.push_back(MakeStep(Step::Op::kSwitch, v, 0, Millis(0), kPreviewSlot));
    return;
  }
  steps.push_back(MakeStep(Step::Op::kStart, v, in.replicas));
  if (in.oldInstances > 0) steps.push_back(MakeStep(Step::Op::kStopOld, v, 0));
}

}  // namespace lastgood
