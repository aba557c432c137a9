// swap (App Service's slot swap, with its preview / complete / cancel phases): the source
// slot's instances take the target's sticky settings, are warmed up, and the two slots
// exchange places at the router.
#include "engine/strategies/strategies.h"

namespace lastgood {

std::vector<Step> PlanSwap(const std::string& source, const std::string& target,
                           const std::string& phase, int sourceVersion, int targetVersion) {
  std::vector<Step> steps;
  const int vs = sourceVersion;
  steps.push_back(MakeStep(Step::Op::kPrepare, vs));
  if (phase == "cancel") {
    steps.push_back(MakeStep(Step::Op::kSettings, vs, 0, Millis(0), source, source));
    steps.push_back(MakeStep(Step::Op::kFinish, vs, 0, Millis(0), "", "cancel"));
    return steps;
  }
  steps.push_back(MakeStep(Step::Op::kSettings, vs, 0, Millis(0), source, target));
  if (phase == "preview") {
    steps.push_back(MakeStep(Step::Op::kFinish, vs, 0, Millis(0), "", "preview"));
    return steps;
  }
  steps.push_back(MakeStep(Step::Op::kWarmup, vs, 0, Millis(0), source));
  steps.push_back(MakeStep(Step::Op::kSwitch, vs, 0, Millis(0), source));
  // What the target ran now sits in the source slot: it takes the source's own settings.
  if (targetVersion > 0)
    steps.push_back(MakeStep(Step::Op::kSettings, targetVersion, 0, Millis(0), source, source));
  steps.push_back(MakeStep(Step::Op::kFinish, vs, 0, Millis(0), "", "swap"));
  return steps;
}

std::vector<Step> PlanFleetSwap(const std::string& source, const std::string& target,
                                const std::string& phase, int sourceVersion, int targetVersion,
                                const std::vector<std::string>& hosts) {
  std::vector<Step> steps;
  const int vs = sourceVersion;
  auto on = [](Step s, const std::string& host, int wave) {
    s.host = host;
    s.wave = wave;
    return s;
  };
  for (const auto& h : hosts) steps.push_back(on(MakeStep(Step::Op::kPrepare, vs), h, 0));
  // The preview and its cancel change settings only: every host's source instances at once.
  if (phase == "preview" || phase == "cancel") {
    const std::string& settings = phase == "preview" ? target : source;
    for (const auto& h : hosts) {
      steps.push_back(on(MakeStep(Step::Op::kSettings, vs, 0, Millis(0), source, settings), h, 1));
    }
    steps.push_back(MakeStep(Step::Op::kFinish, vs, 0, Millis(0), "", phase));
    return steps;
  }
  // The whole swap, or the completion of a preview (whose settings step finds them done).
  for (const auto& h : hosts) {
    steps.push_back(on(MakeStep(Step::Op::kSettings, vs, 0, Millis(0), source, target), h, 1));
    steps.push_back(on(MakeStep(Step::Op::kWarmup, vs, 0, Millis(0), source), h, 1));
  }
  int wave = 2;
  for (const auto& h : hosts)
    steps.push_back(on(MakeStep(Step::Op::kSwitch, vs, 0, Millis(0), source), h, wave++));
  if (targetVersion > 0) {
    for (const auto& h : hosts) {
      steps.push_back(
          on(MakeStep(Step::Op::kSettings, targetVersion, 0, Millis(0), source, source), h, wave));
    }
  }
  steps.push_back(MakeStep(Step::Op::kFinish, vs, 0, Millis(0), "", "swap"));
  return steps;
}

}  // namespace lastgood
