#include "history/figures.h"

#include <nlohmann/json.hpp>

namespace lastgood {
namespace {

double Seconds(int64_t from_ms, int64_t to_ms) {
  return to_ms > from_ms ? double(to_ms - from_ms) / 1000 : 0;
}

template <size_t N>
std::string BucketOf(const std::array<double, N>& bounds, double v) {
  size_t i = 0;
  while (i < N && v > bounds[i]) ++i;
  return std::to_string(i);
}

// "start", "analyze", …: the op of a stored step; "" when it cannot be read.
std::string OpOf(const std::string& spec) {
  auto j = nlohmann::json::parse(spec, nullptr, false);
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) return "";
  return j["op"].get<std::string>();
}

}  // namespace

std::string FigureKey(const std::vector<std::string>& parts) {
  std::string key;
  for (const auto& p : parts) {
    if (!key.empty()) key += kFigureSeparator;
    key += p;
  }
  return key;
}

std::vector<std::string> FigureParts(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = key.find(kFigureSeparator, start);
    parts.push_back(key.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string AnalysisVerdictOf(const Operation& op) {
  if (op.state == OperationState::kSucceeded) return "pass";
  if (op.state != OperationState::kFailed) return "";
  const bool undecided = op.detail.find("undecided") != std::string::npos ||
                         op.detail.find("no verdict") != std::string::npos;
  return undecided ? "undecided" : "fail";
}

std::vector<Figure> FiguresOf(const Deployment& d) {
  const std::string kind = KindName(d.kind), outcome = StateName(d.state);
  std::vector<Figure> out;
  out.emplace_back(FigureKey({kFigDeployments, d.app, kind, TriggerName(d.trigger), outcome}), 1);
  if (d.kind == DeploymentKind::kRollback && d.trigger == Trigger::kAuto)
    out.emplace_back(FigureKey({kFigAutoRollbacks, d.app}), 1);
  const double took = Seconds(d.startedAt, d.finishedAt);
  out.emplace_back(FigureKey({kFigDeploymentSeconds, d.app, kind, outcome,
                              BucketOf(kDeploymentSecondsBounds, took)}),
                   1);
  out.emplace_back(FigureKey({kFigDeploymentSeconds, d.app, kind, outcome, kFigSum}), took);
  for (const auto& op : d.operations) {
    if (op.state != OperationState::kSucceeded && op.state != OperationState::kFailed) continue;
    const std::string step = OpOf(op.spec);
    if (step.empty()) continue;
    const double s = Seconds(op.startedAt, op.finishedAt);
    out.emplace_back(FigureKey({kFigStepSeconds, d.app, step, BucketOf(kStepSecondsBounds, s)}), 1);
    out.emplace_back(FigureKey({kFigStepSeconds, d.app, step, kFigSum}), s);
    if (step == "analyze") {
      std::string verdict = AnalysisVerdictOf(op);
      if (!verdict.empty()) out.emplace_back(FigureKey({kFigAnalysisVerdicts, d.app, verdict}), 1);
    }
  }
  return out;
}

}  // namespace lastgood
