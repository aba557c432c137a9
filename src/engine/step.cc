#include "engine/step.h"

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
    {Step::Op::kSwitch, "switch"},     {Step::Op::kTakeWarm, "takeWarm"},
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

}  // namespace

const Analysis* AnalysisOf(const Step& step, const Manifest& m) {
  if (step.op != Step::Op::kAnalyze) return nullptr;
  if (step.count == kBlueGreenAnalysis)
    return m.strategy.blueGreen.analysis ? &*m.strategy.blueGreen.analysis : nullptr;
  if (step.count == kWaveAnalysis || step.count == kWaveAnalysisAlone)
    return m.strategy.rolling.analysis ? &*m.strategy.rolling.analysis : nullptr;
  if (step.count < 0) return nullptr;
  if (step.count >= static_cast<int>(m.strategy.canarySteps.size())) return nullptr;
  const CanaryStep& c = m.strategy.canarySteps[step.count];
  return c.kind == CanaryStep::Kind::kAnalysis ? &c.analysis : nullptr;
}

std::string Describe(const Step& s) {
  if (s.wave > 0 && s.host.empty()) {
    Step plain = s;
    plain.wave = 0;
    return "wave " + std::to_string(s.wave) + ": " + Describe(plain);
  }
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
      return "bake " + v + " for " + FormatDuration(s.duration) +
             (s.count == kBakeSwitchedHosts ? " on every switched host" : "");
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
      if (s.count == kWaveAnalysis) return "analyse " + v + " against the previous version";
      if (s.count == kWaveAnalysisAlone)
        return "analyse " + v + " against its limits (no host runs the previous version)";
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
    case Step::Op::kTakeWarm:
      return "move the traffic to " + v + "'s " + Plural(s.count, "warm instance") +
             " (one table change)";
  }
  return "?";
}

std::string StepToJson(const Step& s) {
  nlohmann::json j = {{"op", OpName(s.op)}, {"version", s.version}};
  if (s.count != 0) j["count"] = s.count;
  if (s.duration.count() != 0) j["ms"] = s.duration.count();
  if (!s.slot.empty()) j["slot"] = s.slot;
  if (!s.name.empty()) j["name"] = s.name;
  if (!s.host.empty()) j["host"] = s.host;
  if (s.wave != 0) j["wave"] = s.wave;
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
  s.host = j.value("host", "");
  s.wave = j.value("wave", 0);
  return s;
}

}  // namespace lastgood
