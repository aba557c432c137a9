// Reading `strategy:`: type, rolling limits and canary steps with their analysis.
#include <charconv>
#include <limits>

#include "manifest/sections.h"

namespace lastgood::manifest_internal {
namespace {

constexpr int kIntMax = std::numeric_limits<int>::max();

const std::vector<std::string> kStrategyTypes = {"recreate", "rolling", "bluegreen", "canary"};
constexpr std::string_view kUntilResumed = "untilResumed";

Result<Strategy::Type> ReadType(const FieldReader& r, const Field& f) {
  std::string name;
  LG_MANIFEST_ASSIGN(name, r.String(f));
  for (auto t : {Strategy::Type::kRecreate, Strategy::Type::kRolling, Strategy::Type::kBlueGreen,
                 Strategy::Type::kCanary}) {
    if (name == StrategyName(t)) return t;
  }
  std::string msg = "unknown strategy '" + name + "'; use recreate, rolling, bluegreen or canary";
  if (auto close = ClosestMatch(name, kStrategyTypes)) msg += " (did you mean '" + *close + "'?)";
  return Error::InvalidInput(msg, f.path, f.line);
}

Result<Analysis> ReadAnalysis(const FieldReader& r, const Field& f);

Result<RollingStrategy> ReadRolling(const FieldReader& r, const Field& f) {
  RollingStrategy rolling;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"maxSurge", "maxUnavailable", "analysis"}));
  if (auto v = fields.Get("maxSurge"))
    LG_MANIFEST_ASSIGN(rolling.maxSurge, r.Int(*v, 0, kMaxReplicas));
  if (auto v = fields.Get("maxUnavailable")) {
    LG_MANIFEST_ASSIGN(rolling.maxUnavailable, r.Int(*v, 0, kMaxReplicas));
  }
  if (auto v = fields.Get("analysis")) {
    LG_MANIFEST_ASSIGN(rolling.analysis, ReadAnalysis(r, *v));
    // The last wave of a rolling update leaves no previous version to compare with.
    if (rolling.analysis->judge == Analysis::Judge::kSequential) {
      return Error::InvalidInput(
          "a rolling update's analysis takes the threshold judge only: after the last wave no "
          "host serves the previous version for the sequential judge to compare with",
          v->path + ".judge", v->line);
    }
  }
  if (rolling.maxSurge == 0 && rolling.maxUnavailable == 0) {
    return Error::InvalidInput(
        "maxSurge and maxUnavailable are both 0, so a rolling update could never make progress; "
        "set maxSurge: 1 (start a new instance before stopping an old one) or maxUnavailable: 1",
        f.path, f.key_line);
  }
  return rolling;
}

constexpr int kMaxChecks = 10;

Result<AnalysisCheck> ReadCheck(const FieldReader& r, const Field& f) {
  AnalysisCheck check;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"command", "http", "timeout"}));
  auto command = fields.Get("command");
  auto http = fields.Get("http");
  if (static_cast<bool>(command) == static_cast<bool>(http)) {
    return Error::InvalidInput(
        "a check is either command: [argv] (passes on exit 0) or http: /path (passes on 2xx "
        "from every canary instance)",
        f.path, f.line);
  }
  if (command) {
    check.kind = AnalysisCheck::Kind::kExec;
    LG_MANIFEST_ASSIGN(check.command, r.Argv(*command));
  } else {
    check.kind = AnalysisCheck::Kind::kHttp;
    LG_MANIFEST_ASSIGN(check.path, r.NonEmptyString(*http));
    if (check.path[0] != '/') {
      return Error::InvalidInput("expected a path starting with '/', like /smoke", http->path,
                                 http->line);
    }
  }
  if (auto v = fields.Get("timeout")) LG_MANIFEST_ASSIGN(check.timeout, r.Duration(*v, false));
  return check;
}

const std::vector<std::string> kJudges = {"threshold", "sequential"};
// The fields that only one judge reads: given to the other, they are refused, not ignored.
const std::vector<std::string> kThresholdOnly = {"maxErrorRate", "maxLatencyP99",
                                                 "maxErrorRateIncrease", "failureLimit"};
const std::vector<std::string> kSequentialOnly = {"falseAlarmRate", "tolerance"};

Result<Analysis::Judge> ReadJudge(const FieldReader& r, const Field& f) {
  std::string name;
  LG_MANIFEST_ASSIGN(name, r.String(f));
  if (name == "threshold") return Analysis::Judge::kThreshold;
  if (name == "sequential") return Analysis::Judge::kSequential;
  std::string msg = "unknown judge '" + name +
                    "'; use threshold (a window against fixed limits, the default) or sequential "
                    "(the canary against stable, with a confidence)";
  if (auto close = ClosestMatch(name, kJudges)) msg += " (did you mean '" + *close + "'?)";
  return Error::InvalidInput(msg, f.path, f.line);
}

// `latency: 20%` (a share of stable's p99) or `latency: 25ms` (added to it).
Status ReadLatencyTolerance(const FieldReader& r, const Field& f, AnalysisTolerance* t) {
  std::string text;
  LG_MANIFEST_ASSIGN(text, r.String(f));
  const char* usage =
      "expected a share of stable's p99 like 20% (the canary's p99 may be up to 1.2 times "
      "stable's) or a duration like 25ms (added to stable's p99), got '";
  if (!text.empty() && text.back() == '%') {
    double percent = 0;
    const char* end = text.data() + text.size() - 1;
    auto [ptr, ec] = std::from_chars(text.data(), end, percent, std::chars_format::general);
    if (ptr != end || ec != std::errc() || !(percent > 0) || percent > 1000)
      return Error::InvalidInput(usage + text + "' (a share is above 0% and at most 1000%)", f.path,
                                 f.line);
    t->latencyPercent = percent;
    return Status();
  }
  auto d = ParseDuration(text);
  if (!d.ok() || d->count() <= 0) return Error::InvalidInput(usage + text + "'", f.path, f.line);
  t->latencyAdded = *d;
  return Status();
}

Result<AnalysisTolerance> ReadTolerance(const FieldReader& r, const Field& f) {
  AnalysisTolerance t;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"errorRate", "latency"}));
  if (auto v = fields.Get("errorRate")) {
    LG_MANIFEST_ASSIGN(t.errorRate, r.Fraction(*v));
    if (t.errorRate <= 0 || t.errorRate >= 1) {
      return Error::InvalidInput(
          "expected a number above 0 and below 1: how many points worse than stable's the "
          "canary's error rate may be (0.02 is 2 points); with 0 no canary could ever be shown "
          "within it",
          v->path, v->line);
    }
  }
  if (auto v = fields.Get("latency")) {
    Status s = ReadLatencyTolerance(r, *v, &t);
    if (!s.ok()) return s.error();
  }
  return t;
}

// Refuses the fields of the other judge, naming the first one given.
Status RefuseOtherJudgesFields(const MapFields& fields, Analysis::Judge judge) {
  const bool sequential = judge == Analysis::Judge::kSequential;
  for (const auto& name : sequential ? kThresholdOnly : kSequentialOnly) {
    auto v = fields.Get(name);
    if (!v) continue;
    return Error::InvalidInput(
        sequential ? name +
                         " belongs to judge: threshold; the sequential judge compares the "
                         "canary with stable, within tolerance: { errorRate, latency }"
                   : name +
                         " belongs to judge: sequential; add judge: sequential to this "
                         "analysis, or use the threshold judge's limits (maxErrorRate, ...)",
        v->path, v->key_line);
  }
  return Status();
}

Result<Analysis> ReadAnalysis(const FieldReader& r, const Field& f) {
  Analysis a;
  MapFields fields;
  LG_MANIFEST_ASSIGN(
      fields, MapFields::Open(f, {"judge", "falseAlarmRate", "tolerance", "window", "minRequests",
                                  "maxErrorRate", "maxLatencyP99", "maxErrorRateIncrease",
                                  "failureLimit", "checks", "prometheus"}));
  if (auto v = fields.Get("judge")) LG_MANIFEST_ASSIGN(a.judge, ReadJudge(r, *v));
  if (Status s = RefuseOtherJudgesFields(fields, a.judge); !s.ok()) return s.error();
  if (auto v = fields.Get("falseAlarmRate")) {
    LG_MANIFEST_ASSIGN(a.falseAlarmRate, r.Fraction(*v));
    if (a.falseAlarmRate <= 0 || a.falseAlarmRate > kMaxFalseAlarmRate) {
      return Error::InvalidInput(
          "expected a number above 0 and at most 0.1: the share of good canaries that may be "
          "failed by chance (0.001 is one in a thousand)",
          v->path, v->line);
    }
  }
  if (auto v = fields.Get("tolerance")) LG_MANIFEST_ASSIGN(a.tolerance, ReadTolerance(r, *v));
  if (auto v = fields.Get("checks")) {
    if (!v->node.IsSequence() || v->node.size() > static_cast<size_t>(kMaxChecks)) {
      return Error::InvalidInput(
          "expected a list of at most 10 checks, like "
          "[{command: [\"./smoke\"]}, {http: /smoke}]",
          v->path, v->line);
    }
    for (size_t i = 0; i < v->node.size(); ++i) {
      AnalysisCheck check;
      LG_MANIFEST_ASSIGN(check, ReadCheck(r, v->Item(i, v->node[i])));
      a.checks.push_back(std::move(check));
    }
  }
  if (auto v = fields.Get("window")) {
    LG_MANIFEST_ASSIGN(a.window, r.Duration(*v, false));
    if (a.window < Millis(1000) || a.window > kMaxAnalysisWindow) {
      return Error::InvalidInput(
          "expected a window between 1s and 2m (the router keeps 2 minutes of measurements); "
          "to watch longer, give several analysis steps in a row",
          v->path, v->line);
    }
  }
  if (auto v = fields.Get("minRequests")) LG_MANIFEST_ASSIGN(a.minRequests, r.Int(*v, 1, kIntMax));
  if (auto v = fields.Get("maxErrorRate")) LG_MANIFEST_ASSIGN(a.maxErrorRate, r.Fraction(*v));
  if (auto v = fields.Get("maxLatencyP99")) {
    LG_MANIFEST_ASSIGN(a.maxLatencyP99, r.Duration(*v, false));
  }
  if (auto v = fields.Get("maxErrorRateIncrease")) {
    LG_MANIFEST_ASSIGN(a.maxErrorRateIncrease, r.Fraction(*v));
  }
  if (auto v = fields.Get("failureLimit"))
    LG_MANIFEST_ASSIGN(a.failureLimit, r.Int(*v, 0, kIntMax));
  if (auto v = fields.Get("prometheus")) LG_MANIFEST_ASSIGN(a.prometheus, ReadPrometheus(r, *v));
  return a;
}

Result<std::optional<Millis>> ReadPause(const FieldReader& r, const Field& f) {
  // `pause: {}` is accepted too, as Argo Rollouts writes an indefinite pause.
  if (f.node.IsMap()) {
    if (f.node.size() == 0) return std::optional<Millis>();
    return Error::InvalidInput(
        "expected a duration (pause: 30s) or untilResumed (wait for `lastgood resume`), got a map",
        f.path, f.line);
  }
  std::string text;
  LG_MANIFEST_ASSIGN(text, r.String(f));
  if (text == kUntilResumed) return std::optional<Millis>();
  auto d = r.Duration(f, false);
  if (!d.ok()) {
    return Error::InvalidInput(
        d.error().message + ", or untilResumed to wait for `lastgood resume`", f.path, f.line);
  }
  return std::optional<Millis>(*d);
}

Result<CanaryStep> ReadStep(const FieldReader& r, const Field& f) {
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"weight", "pause", "analysis"}));
  if (fields.entries().size() != 1) {
    return Error::InvalidInput(
        "a step is exactly one of weight: N, pause: DURATION|untilResumed or analysis: {...}; "
        "write each as its own list item",
        f.path, f.line);
  }
  const auto& entry = fields.entries()[0];
  CanaryStep step;
  if (entry.key == "weight") {
    step.kind = CanaryStep::Kind::kWeight;
    LG_MANIFEST_ASSIGN(step.weight, r.Int(entry.value, 0, 100));
  } else if (entry.key == "pause") {
    step.kind = CanaryStep::Kind::kPause;
    LG_MANIFEST_ASSIGN(step.pause, ReadPause(r, entry.value));
  } else {
    step.kind = CanaryStep::Kind::kAnalysis;
    LG_MANIFEST_ASSIGN(step.analysis, ReadAnalysis(r, entry.value));
  }
  return step;
}

Result<std::vector<CanaryStep>> ReadCanary(const FieldReader& r, const Field& f) {
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"steps"}));
  auto steps_field = fields.Get("steps");
  if (!steps_field) return std::vector<CanaryStep>();
  const Field& list = *steps_field;
  if (!list.node.IsSequence()) {
    return Error::InvalidInput(
        "expected a list of steps (- weight: 10, - pause: 30s, "
        "- analysis: {...}), got " +
            Describe(list.node),
        list.path, list.line);
  }
  if (list.node.size() > static_cast<size_t>(kMaxCanarySteps)) {
    return Error::InvalidInput("has more than " + std::to_string(kMaxCanarySteps) + " steps",
                               list.path, list.line);
  }
  std::vector<CanaryStep> steps;
  for (size_t i = 0; i < list.node.size(); ++i) {
    CanaryStep step;
    LG_MANIFEST_ASSIGN(step, ReadStep(r, list.Item(i, list.node[i])));
    steps.push_back(std::move(step));
  }
  return steps;
}

Result<BlueGreenStrategy> ReadBlueGreen(const FieldReader& r, const Field& f) {
  BlueGreenStrategy b;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"smokeTest", "analysis"}));
  LG_MANIFEST_ASSIGN(b.smokeTest, ReadHookField(r, fields.Get("smokeTest")));
  if (auto v = fields.Get("analysis")) LG_MANIFEST_ASSIGN(b.analysis, ReadAnalysis(r, *v));
  return b;
}

}  // namespace

Result<Strategy> ReadStrategy(const FieldReader& r, const Field& f) {
  Strategy s;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"type", "rolling", "canary", "bluegreen"}));
  if (auto v = fields.Get("type")) LG_MANIFEST_ASSIGN(s.type, ReadType(r, *v));
  if (auto v = fields.Get("rolling")) LG_MANIFEST_ASSIGN(s.rolling, ReadRolling(r, *v));
  if (s.rolling.analysis && s.type != Strategy::Type::kRolling) {
    auto v = fields.Get("rolling");
    return Error::InvalidInput(std::string("a rolling analysis is given but the strategy is ") +
                                   StrategyName(s.type) +
                                   "; set strategy.type: rolling or remove "
                                   "strategy.rolling.analysis",
                               v->path + ".analysis", v->line);
  }
  auto canary = fields.Get("canary");
  if (canary) LG_MANIFEST_ASSIGN(s.canarySteps, ReadCanary(r, *canary));
  if (s.type == Strategy::Type::kCanary && s.canarySteps.empty()) {
    return Error::InvalidInput(
        "the canary strategy needs steps; add strategy.canary.steps, like "
        "[{weight: 10}, {pause: 30s}, {weight: 50}]",
        canary ? canary->path + ".steps" : f.path + ".canary",
        canary ? canary->key_line : f.key_line);
  }
  if (auto v = fields.Get("bluegreen")) {
    LG_MANIFEST_ASSIGN(s.blueGreen, ReadBlueGreen(r, *v));
    if (s.type != Strategy::Type::kBlueGreen) {
      return Error::InvalidInput(std::string("bluegreen options are given but the strategy is ") +
                                     StrategyName(s.type) +
                                     "; set strategy.type: bluegreen or remove strategy.bluegreen",
                                 v->path, v->key_line);
    }
  }
  if (s.type != Strategy::Type::kCanary && !s.canarySteps.empty()) {
    return Error::InvalidInput(std::string("canary steps are given but the strategy is ") +
                                   StrategyName(s.type) +
                                   "; set strategy.type: canary or remove strategy.canary",
                               canary->path, canary->key_line);
  }
  return s;
}

}  // namespace lastgood::manifest_internal
