// canary (Argo Rollouts' canary steps): the new version takes a growing share of the slot's
// requests, with pauses and analyses of live traffic between the shares.
#include <algorithm>

#include "engine/strategies/strategies.h"

namespace lastgood {

void PlanCanary(std::vector<Step>& steps, const PlanInput& in) {
  const int v = in.version, r = in.replicas;
  steps.push_back(MakeStep(Step::Op::kWeight, v, 0));
  int running = 0;
  for (size_t i = 0; i < in.strategy.canarySteps.size(); ++i) {
    const CanaryStep& cs = in.strategy.canarySteps[i];
    switch (cs.kind) {
      case CanaryStep::Kind::kWeight: {
        int need = std::max(1, (r * cs.weight + 99) / 100);
        if (need > running) {
          steps.push_back(MakeStep(Step::Op::kStart, v, need));
          running = need;
        }
        steps.push_back(MakeStep(Step::Op::kWeight, v, cs.weight));
        break;
      }
      case CanaryStep::Kind::kPause:
        steps.push_back(MakeStep(Step::Op::kPause, v, 0, cs.pause.value_or(Millis(0))));
        break;
      case CanaryStep::Kind::kAnalysis:
        steps.push_back(MakeStep(Step::Op::kAnalyze, v, static_cast<int>(i)));
        break;
    }
  }
  if (running < r) steps.push_back(MakeStep(Step::Op::kStart, v, r));
  steps.push_back(MakeStep(Step::Op::kWeight, v, 100));
  steps.push_back(MakeStep(Step::Op::kStopOld, v, 0));
}

}  // namespace lastgood
