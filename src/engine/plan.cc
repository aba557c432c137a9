#include "engine/plan.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lastgood {
namespace {

const char* OpName(Step::Op op) {
  switch (op) {
    case Step::Op::kPrepare:
      return "prepare";
    case Step::Op::kStart:
      return "start";
    case Step::Op::kStopOld:
      return "stopOld";
    case Step::Op::kBake:
      return "bake";
    case Step::Op::kFinish:
      return "finish";
  }
  return "?";
}

std::string Plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

std::string Describe(const Step& s) {
  std::string v = "v" + std::to_string(s.version);
  switch (s.op) {
    case Step::Op::kPrepare:
      return "prepare the release of " + v;
    case Step::Op::kStart:
      return "run " + Plural(s.count, "ready instance") + " of " + v;
    case Step::Op::kStopOld:
      return s.count == 0 ? "stop the other versions' instances"
                          : "stop other versions' instances down to " + std::to_string(s.count);
    case Step::Op::kBake:
      return "bake " + v + " for " + FormatDuration(s.duration);
    case Step::Op::kFinish:
      return "mark " + v + " as running in the slot";
  }
  return "?";
}

std::string StepToJson(const Step& s) {
  nlohmann::json j = {{"op", OpName(s.op)}, {"version", s.version}};
  if (s.op == Step::Op::kStart || s.op == Step::Op::kStopOld) j["count"] = s.count;
  if (s.op == Step::Op::kBake) j["ms"] = s.duration.count();
  return j.dump();
}

Result<Step> StepFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("op"))
    return Error::Internal("stored step is not valid: " + text);
  Step s;
  std::string op = j.value("op", "");
  bool found = false;
  for (auto o : {Step::Op::kPrepare, Step::Op::kStart, Step::Op::kStopOld, Step::Op::kBake,
                 Step::Op::kFinish}) {
    if (op == OpName(o)) s.op = o, found = true;
  }
  if (!found) return Error::Internal("stored step has an unknown op: " + text);
  s.version = j.value("version", 0);
  s.count = j.value("count", 0);
  s.duration = Millis(j.value("ms", int64_t{0}));
  return s;
}

std::vector<Step> PlanDeployment(const PlanInput& in) {
  std::vector<Step> steps;
  const int v = in.version, r = in.replicas;
  steps.push_back({Step::Op::kPrepare, v, 0, Millis(0)});
  if (in.warmInstances >= r) {
    steps.push_back({Step::Op::kStart, v, r, Millis(0)});
    if (in.oldInstances > 0) steps.push_back({Step::Op::kStopOld, v, 0, Millis(0)});
  } else if (in.strategy.type == Strategy::Type::kRecreate) {
    if (in.oldInstances > 0) steps.push_back({Step::Op::kStopOld, v, 0, Millis(0)});
    steps.push_back({Step::Op::kStart, v, r, Millis(0)});
  } else {
    const int surge = in.strategy.rolling.maxSurge;
    const int unavailable = std::min(in.strategy.rolling.maxUnavailable, r);
    int fresh = 0, old = in.oldInstances;
    // Each round first grows the new side as far as maxSurge allows, then shrinks the old
    // side as far as maxUnavailable allows; the manifest guarantees surge + unavailable >= 1,
    // so every round makes progress.
    while (fresh < r || old > 0) {
      bool moved = false;
      int grow_to = std::min(r, r + surge - old);
      if (grow_to > fresh) {
        steps.push_back({Step::Op::kStart, v, grow_to, Millis(0)});
        fresh = grow_to;
        moved = true;
      }
      int shrink_to = std::min(old, std::max(0, r - unavailable - fresh));
      if (shrink_to < old) {
        steps.push_back({Step::Op::kStopOld, v, shrink_to, Millis(0)});
        old = shrink_to;
        moved = true;
      }
      if (!moved) break;  // only with surge = unavailable = 0, which validation refuses
    }
  }
  if (in.bake.count() > 0) steps.push_back({Step::Op::kBake, v, 0, in.bake});
  steps.push_back({Step::Op::kFinish, v, 0, Millis(0)});
  return steps;
}

}  // namespace lastgood
