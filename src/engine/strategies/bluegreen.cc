// bluegreen: the new version comes up beside the old one in the preview slot, is smoke
// tested and analysed there, and the slots are switched at the router in one table change.
#include "engine/strategies/strategies.h"

namespace lastgood {

void PlanBlueGreen(std::vector<Step>& steps, const PlanInput& in) {
  const int v = in.version;
  steps.push_back(MakeStep(Step::Op::kStopOld, v, 0, Millis(0), kPreviewSlot));
  steps.push_back(MakeStep(Step::Op::kStart, v, in.replicas, Millis(0), kPreviewSlot));
  if (in.strategy.blueGreen.smokeTest) steps.push_back(MakeStep(Step::Op::kSmoke, v));
  if (in.strategy.blueGreen.analysis)
    steps.push_back(MakeStep(Step::Op::kAnalyze, v, kBlueGreenAnalysis));
  steps.push_back(MakeStep(Step::Op::kSwitch, v, 0, Millis(0), kPreviewSlot));
}

}  // namespace lastgood
