#include "engine/plan.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lastgood {
namespace {

constexpr std::pair<Step::Op, const char*> kOpNames[] = {
    {Step::Op::kPrepare, "prepare"},   {Step::Op::kStart, "start"},
    {Step::Op::kStopOld, "stopOld"},   {Step::Op::kBake, "bake"},
    {Step::Op::kFinish, "finish"},     {Step::Op::kHook, "hook"},
    {Step::Op::kWeight, "weight"},     {Step::Op::kPause, "pause"},
    {Step::Op::kAnalyze, "analyze"},   {Step::Op::kSmoke, "smoke"},
    {Step::Op::kSettings, "settings"}, {Step::Op::kWarmup, "warmup"},
    {Step::Op::kSwitch, "switch"},
};

const char* OpName(Step::Op op) {
  for (auto [o, name] : kOpNames) {
    if (o == op) return name;
  }
  return "?";
}

std::string Plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

Step Make(Step::Op op, int version, int count = 0, Millis duration = Millis(0),
          std::string slot = "", std::string name = "") {
  return Step{op, version, count, duration, std::move(slot), std::move(name)};
}

// The rolling part of a plan: from `old` instances of other versions to `r` of `v`.
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
      steps.push_back(Make(Step::Op::kStart, v, grow_to));
      fresh = grow_to;
      moved = true;
    }
    int shrink_to = std::min(old, std::max(0, r - unavailable - fresh));
    if (shrink_to < old) {
      steps.push_back(Make(Step::Op::kStopOld, v, shrink_to));
      old = shrink_to;
      moved = true;
    }
    if (!moved) break;  // only with surge = unavailable = 0, which validation refuses
  }
}

void PlanCanary(std::vector<Step>& steps, const PlanInput& in) {
  const int v = in.version, r = in.replicas;
  steps.push_back(Make(Step::Op::kWeight, v, 0));
  int running = 0;
  for (size_t i = 0; i < in.strategy.canarySteps.size(); ++i) {
    const CanaryStep& cs = in.strategy.canarySteps[i];
    switch (cs.kind) {
      case CanaryStep::Kind::kWeight: {
        int need = std::max(1, (r * cs.weight + 99) / 100);
        if (need > running) {
          steps.push_back(Make(Step::Op::kStart, v, need));
          running = need;
        }
        steps.push_back(Make(Step::Op::kWeight, v, cs.weight));
        break;
      }
      case CanaryStep::Kind::kPause:
        steps.push_back(Make(Step::Op::kPause, v, 0, cs.pause.value_or(Millis(0))));
        break;
      case CanaryStep::Kind::kAnalysis:
        steps.push_back(Make(Step::Op::kAnalyze, v, static_cast<int>(i)));
        break;
    }
  }
  if (running < r) steps.push_back(Make(Step::Op::kStart, v, r));
  steps.push_back(Make(Step::Op::kWeight, v, 100));
  steps.push_back(Make(Step::Op::kStopOld, v, 0));
}

void PlanBlueGreen(std::vector<Step>& steps, const PlanInput& in) {
  const int v = in.version;
  steps.push_back(Make(Step::Op::kStopOld, v, 0, Millis(0), kPreviewSlot));
  steps.push_back(Make(Step::Op::kStart, v, in.replicas, Millis(0), kPreviewSlot));
  if (in.strategy.blueGreen.smokeTest) steps.push_back(Make(Step::Op::kSmoke, v));
  if (in.strategy.blueGreen.analysis) steps.push_back(Make(Step::Op::kAnalyze, v, -1));
  steps.push_back(Make(Step::Op::kSwitch, v, 0, Millis(0), kPreviewSlot));
}

}  // namespace

const Analysis* AnalysisOf(const Step& step, const Manifest& m) {
  if (step.op != Step::Op::kAnalyze) return nullptr;
  if (step.count < 0)
    return m.strategy.blueGreen.analysis ? &*m.strategy.blueGreen.analysis : nullptr;
  if (step.count >= static_cast<int>(m.strategy.canarySteps.size())) return nullptr;
  const CanaryStep& c = m.strategy.canarySteps[step.count];
  return c.kind == CanaryStep::Kind::kAnalysis ? &c.analysis : nullptr;
}

std::string Describe(const Step& s) {
  std::string v = "v" + std::to_string(s.version);
  std::string in = s.slot.empty() ? "" : " in " + s.slot;
  switch (s.op) {
    case Step::Op::kPrepare:
      return "prepare the release of " + v;
    case Step::Op::kStart:
      return "run " + Plural(s.count, "ready instance") + " of " + v + in;
    case Step::Op::kStopOld:
      return (s.count == 0 ? "stop the other versions' instances"
                           : "stop other versions' instances down to " + std::to_string(s.count)) +
             in;
    case Step::Op::kBake:
      return "bake " + v + " for " + FormatDuration(s.duration);
    case Step::Op::kFinish:
      if (s.name == "preview") return "mark the swap as previewed (complete or cancel it)";
      if (s.name == "cancel") return "mark the swap as canceled";
      return "mark " + v + " as running in the slot";
    case Step::Op::kHook:
      return "run the " + s.name + " hook";
    case Step::Op::kWeight:
      return "send " + std::to_string(s.count) + "% of the traffic to canary " + v;
    case Step::Op::kPause:
      return s.duration.count() ? "pause for " + FormatDuration(s.duration)
                                : "pause until `lastgood resume`";
    case Step::Op::kAnalyze:
      return s.count < 0 ? "analyse " + v + " on preview traffic"
                         : "analyse canary " + v + " against stable";
    case Step::Op::kSmoke:
      return "run the smoke test against " + v + " in " + kPreviewSlot;
    case Step::Op::kSettings:
      return "restart " + v + in + " with the sticky settings of " + s.name;
    case Step::Op::kWarmup:
      return "warm up " + v + in;
    case Step::Op::kSwitch:
      return "switch " + s.slot + " and the slot at the router (" + v + " goes live)";
  }
  return "?";
}

std::string StepToJson(const Step& s) {
  nlohmann::json j = {{"op", OpName(s.op)}, {"version", s.version}};
  if (s.count != 0) j["count"] = s.count;
  if (s.duration.count() != 0) j["ms"] = s.duration.count();
  if (!s.slot.empty()) j["slot"] = s.slot;
  if (!s.name.empty()) j["name"] = s.name;
  return j.dump();
}

Result<Step> StepFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("op"))
    return Error::Internal("stored step is not valid: " + text);
  Step s;
  std::string op = j.value("op", "");
  bool found = false;
  for (auto [o, name] : kOpNames) {
    if (op == name) s.op = o, found = true;
  }
  if (!found) return Error::Internal("stored step has an unknown op: " + text);
  s.version = j.value("version", 0);
  s.count = j.value("count", 0);
  s.duration = Millis(j.value("ms", int64_t{0}));
  s.slot = j.value("slot", "");
  s.name = j.value("name", "");
  return s;
}

std::vector<Step> PlanDeployment(const PlanInput& in) {
  std::vector<Step> steps;
  const int v = in.version, r = in.replicas;
  steps.push_back(Make(Step::Op::kPrepare, v));
  if (!in.preHook.empty()) steps.push_back(Make(Step::Op::kHook, v, 0, Millis(0), "", in.preHook));
  const auto type = in.strategy.type;
  if (in.previewInstances >= r) {
    steps.push_back(Make(Step::Op::kSwitch, v, 0, Millis(0), kPreviewSlot));
  } else if (in.warmInstances >= r) {
    steps.push_back(Make(Step::Op::kStart, v, r));
    if (in.oldInstances > 0) steps.push_back(Make(Step::Op::kStopOld, v, 0));
  } else if (type == Strategy::Type::kRecreate) {
    if (in.oldInstances > 0) steps.push_back(Make(Step::Op::kStopOld, v, 0));
    steps.push_back(Make(Step::Op::kStart, v, r));
  } else if (type == Strategy::Type::kCanary && in.oldInstances > 0) {
    PlanCanary(steps, in);
  } else if (type == Strategy::Type::kBlueGreen && in.oldInstances > 0) {
    PlanBlueGreen(steps, in);
  } else {
    PlanRolling(steps, v, r, in.oldInstances, in.strategy.rolling);
  }
  if (in.bake.count() > 0) steps.push_back(Make(Step::Op::kBake, v, 0, in.bake));
  if (!in.postHook.empty())
    steps.push_back(Make(Step::Op::kHook, v, 0, Millis(0), "", in.postHook));
  steps.push_back(Make(Step::Op::kFinish, v));
  return steps;
}

std::vector<Step> PlanSwap(const std::string& source, const std::string& target,
                           const std::string& phase, int sourceVersion, int targetVersion) {
  std::vector<Step> steps;
  const int vs = sourceVersion;
  steps.push_back(Make(Step::Op::kPrepare, vs));
  if (phase == "cancel") {
    steps.push_back(Make(Step::Op::kSettings, vs, 0, Millis(0), source, source));
    steps.push_back(Make(Step::Op::kFinish, vs, 0, Millis(0), "", "cancel"));
    return steps;
  }
  steps.push_back(Make(Step::Op::kSettings, vs, 0, Millis(0), source, target));
  if (phase == "preview") {
    steps.push_back(Make(Step::Op::kFinish, vs, 0, Millis(0), "", "preview"));
    return steps;
  }
  steps.push_back(Make(Step::Op::kWarmup, vs, 0, Millis(0), source));
  steps.push_back(Make(Step::Op::kSwitch, vs, 0, Millis(0), source));
  // What the target ran now sits in the source slot: it takes the source's own settings.
  if (targetVersion > 0)
    steps.push_back(Make(Step::Op::kSettings, targetVersion, 0, Millis(0), source, source));
  steps.push_back(Make(Step::Op::kFinish, vs, 0, Millis(0), "", "swap"));
  return steps;
}

}  // namespace lastgood
