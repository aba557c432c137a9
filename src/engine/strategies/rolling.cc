// rolling (Kubernetes' RollingUpdate): the new version grows and the old shrinks by maxSurge
// and maxUnavailable. Also the plan of a first deployment under any strategy, of a slot
// other than production, and of a rollback (its version was good already).
#include <algorithm>

#include "engine/strategies/strategies.h"

namespace lastgood {

void PlanRolling(std::vector<Step>& steps, int v, int r, int old, const RollingStrategy& rolling) {
  const int surge = rolling.maxSurge;
  const int unavailable = std::min(rolling.maxUnavailable, r);
  int fresh = 0;
  // Each round first grows the new side as far as maxSurge allows, then shrinks the old
  // side as far as maxUnavailable allows; the manifest guarantees surge + unavailable >= 1,
  // so every round makes progress.
  while (fresh < r || old > 0) {
    bool moved = false;
    int grow_to = std::min(r, r + surge - old);
    if (grow_to > fresh) {
      steps.push_back(MakeStep(Step::Op::kStart, v, grow_to));
      fresh = grow_to;
      moved = true;
    }
    int shrink_to = std::min(old, std::max(0, r - unavailable - fresh));
    if (shrink_to < old) {
      steps.push_back(MakeStep(Step::Op::kStopOld, v, shrink_to));
      old = shrink_to;
      moved = true;
    }
    if (!moved) break;  // only with surge = unavailable = 0, which validation refuses
  }
}

}  // namespace lastgood
