#include "api/metrics.h"

#include <array>
#include <nlohmann/json.hpp>
#include <set>

#include "base/exposition.h"
#include "store/commit_latency.h"

namespace lastgood {
namespace {

constexpr std::array<double, 10> kDeploymentBounds = {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
constexpr std::array<double, 11> kStepBounds = {0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800};

// A histogram being filled: counts per bucket (not cumulative) and the sum.
template <size_t N>
struct Buckets {
  std::array<uint64_t, N + 1> counts{};
  double sum = 0;
  void Add(const std::array<double, N>& bounds, double v) {
    size_t i = 0;
    while (i < N && v > bounds[i]) ++i;
    ++counts[i];
    sum += v;
  }
};

double Seconds(int64_t from_ms, int64_t to_ms) {
  return to_ms > from_ms ? double(to_ms - from_ms) / 1000 : 0;
}

// "start", "analyze", …: the op of a stored step; "" when it cannot be read.
std::string OpOf(const std::string& spec) {
  auto j = nlohmann::json::parse(spec, nullptr, false);
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) return "";
  return j["op"].get<std::string>();
}

// An ended analysis step's verdict; nullopt for one that did not end on its own.
std::optional<std::string> VerdictOf(const Operation& op) {
  if (op.state == OperationState::kSucceeded) return "pass";
  if (op.state != OperationState::kFailed) return std::nullopt;
  const bool undecided = op.detail.find("undecided") != std::string::npos ||
                         op.detail.find("no verdict") != std::string::npos;
  return undecided ? "undecided" : "fail";
}

}  // namespace

ControllerMetrics::Finished ControllerMetrics::Summarise(const Deployment& d) {
  Finished f{d.app,
             KindName(d.kind),
             TriggerName(d.trigger),
             StateName(d.state),
             Seconds(d.startedAt, d.finishedAt),
             {},
             {}};
  for (const auto& op : d.operations) {
    if (op.state != OperationState::kSucceeded && op.state != OperationState::kFailed) continue;
    std::string name = OpOf(op.spec);
    if (name.empty()) continue;
    f.steps.emplace_back(name, Seconds(op.startedAt, op.finishedAt));
    if (name == "analyze") {
      if (auto v = VerdictOf(op)) f.verdicts.push_back(*v);
    }
  }
  return f;
}

Result<std::string> ControllerMetrics::Text() {
  auto apps = store_->ListApps();
  if (!apps.ok()) return apps.error();
  std::map<std::string, int> running;
  std::vector<std::pair<std::string, int64_t>> ended;  // not yet summarised
  std::vector<Deployment> rows;
  for (const auto& app : *apps) {
    running[app.name] = 0;
    auto list = store_->ListDeployments(app.name, 0);
    if (!list.ok()) return list.error();
    for (auto& d : *list) rows.push_back(std::move(d));
  }
  {
    MutexLock lock(&mu_);
    for (const auto& d : rows) {
      if (!IsFinal(d.state)) {
        ++running[d.app];
      } else if (!finished_.count({d.app, d.id})) {
        ended.emplace_back(d.app, d.id);
      }
    }
  }
  // Read outside the lock: the operations of deployments not seen before, once each.
  std::vector<std::pair<std::pair<std::string, int64_t>, Finished>> read;
  for (const auto& d : rows) {
    if (!IsFinal(d.state)) continue;
    bool wanted = false;
    for (const auto& e : ended) wanted = wanted || (e.first == d.app && e.second == d.id);
    if (!wanted) continue;
    auto full = store_->GetDeployment(d.app, d.name);
    if (!full.ok()) {
      if (full.error().code == ErrorCode::kNotFound) continue;  // pruned meanwhile
      return full.error();
    }
    read.push_back({{d.app, d.id}, Summarise(*full)});
  }

  using Key3 = std::tuple<std::string, std::string, std::string>;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, uint64_t> deployments;
  std::map<std::string, uint64_t> auto_rollbacks;
  std::map<std::pair<std::string, std::string>, uint64_t> verdicts;
  std::map<Key3, Buckets<kDeploymentBounds.size()>> durations;
  std::map<std::pair<std::string, std::string>, Buckets<kStepBounds.size()>> steps;
  {
    MutexLock lock(&mu_);
    for (auto& [key, f] : read) finished_.emplace(key, std::move(f));
    for (const auto& [key, f] : finished_) {
      ++deployments[{f.app, f.kind, f.trigger, f.outcome}];
      if (f.kind == "rollback" && f.trigger == "auto") ++auto_rollbacks[f.app];
      for (const auto& v : f.verdicts) ++verdicts[{f.app, v}];
      durations[{f.app, f.kind, f.outcome}].Add(kDeploymentBounds, f.seconds);
      for (const auto& [op, s] : f.steps) steps[{f.app, op}].Add(kStepBounds, s);
    }
  }

  Exposition out;
  auto& total = out.Add("lastgood_deployments_total", Exposition::Type::kCounter,
                        "Finished deployments by app, kind, trigger and outcome.");
  for (const auto& [k, n] : deployments) {
    const auto& [app, kind, trigger, outcome] = k;
    total.Sample({{"app", app}, {"kind", kind}, {"trigger", trigger}, {"outcome", outcome}},
                 double(n));
  }
  auto& rollbacks = out.Add("lastgood_automatic_rollbacks_total", Exposition::Type::kCounter,
                            "Rollbacks the controller started itself, after a failure.");
  for (const auto& [app, _] : running)
    rollbacks.Sample({{"app", app}}, double(auto_rollbacks[app]));
  auto& analyses = out.Add("lastgood_analysis_verdicts_total", Exposition::Type::kCounter,
                           "Ended analysis steps by verdict: pass, fail or undecided.");
  for (const auto& [k, n] : verdicts)
    analyses.Sample({{"app", k.first}, {"verdict", k.second}}, double(n));
  auto& now = out.Add("lastgood_deployments_running", Exposition::Type::kGauge,
                      "Deployments running now (at most one per app).");
  for (const auto& [app, n] : running) now.Sample({{"app", app}}, n);
  auto& took = out.Add("lastgood_deployment_duration_seconds", Exposition::Type::kHistogram,
                       "How long finished deployments took, from start to end.");
  for (const auto& [k, b] : durations) {
    const auto& [app, kind, outcome] = k;
    took.Histogram({{"app", app}, {"kind", kind}, {"outcome", outcome}}, kDeploymentBounds,
                   b.counts, b.sum);
  }
  auto& step = out.Add("lastgood_step_duration_seconds", Exposition::Type::kHistogram,
                       "How long the steps of deployments took (those that succeeded or failed).");
  for (const auto& [k, b] : steps)
    step.Histogram({{"app", k.first}, {"step", k.second}}, kStepBounds, b.counts, b.sum);
  auto& commit = out.Add("lastgood_store_commit_seconds", Exposition::Type::kHistogram,
                         "How long the store's write transactions took to commit, since the "
                         "controller started.");
  CommitLatencySnapshot c = CommitLatency();
  commit.Histogram({}, kCommitLatencyBounds, c.counts, c.sumSeconds);
  return out.Text();
}

}  // namespace lastgood
