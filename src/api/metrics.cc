#include "api/metrics.h"

#include <algorithm>
#include <array>
#include <set>
#include <span>

#include "base/exposition.h"
#include "history/figures.h"
#include "store/commit_latency.h"

namespace lastgood {
namespace {

using Figures = std::map<std::string, double>;

// A histogram family's series from the figures: label values → per-bucket counts and sum.
struct Series {
  std::vector<uint64_t> counts;
  double sum = 0;
};

std::map<std::vector<std::string>, Series> HistogramOf(const Figures& figures, const char* family,
                                                       size_t labels, size_t buckets) {
  std::map<std::vector<std::string>, Series> out;
  for (const auto& [key, value] : figures) {
    auto parts = FigureParts(key);
    if (parts.size() != labels + 2 || parts[0] != family) continue;
    std::vector<std::string> values(parts.begin() + 1, parts.end() - 1);
    Series& s = out[values];
    s.counts.resize(buckets + 1);
    if (parts.back() == kFigSum) {
      s.sum += value;
    } else {
      size_t b = std::stoul(parts.back());
      if (b <= buckets) s.counts[b] += static_cast<uint64_t>(value + 0.5);
    }
  }
  return out;
}

// A counter family's series: label values → value.
std::map<std::vector<std::string>, double> CounterOf(const Figures& figures, const char* family,
                                                     size_t labels) {
  std::map<std::vector<std::string>, double> out;
  for (const auto& [key, value] : figures) {
    auto parts = FigureParts(key);
    if (parts.size() != labels + 1 || parts[0] != family) continue;
    out[std::vector<std::string>(parts.begin() + 1, parts.end())] += value;
  }
  return out;
}

MetricLabels Labels(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  MetricLabels l;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i)
    l.emplace_back(names[i], values[i]);
  return l;
}

}  // namespace

Result<std::string> ControllerMetrics::Text() {
  auto apps = store_->ListApps();
  if (!apps.ok()) return apps.error();
  auto pruned = store_->PrunedFigures();
  if (!pruned.ok()) return pruned.error();
  std::map<std::string, int> running;
  std::vector<Deployment> rows;
  for (const auto& app : *apps) {
    running[app.name] = 0;
    auto list = store_->ListDeployments(app.name, 0);
    if (!list.ok()) return list.error();
    for (auto& d : *list) rows.push_back(std::move(d));
  }
  std::set<std::pair<std::string, int64_t>> known;
  {
    MutexLock lock(&mu_);
    for (const auto& [key, _] : finished_) known.insert(key);
  }
  // Outside the lock: the operations of the deployments not seen before, once each.
  std::vector<std::pair<std::pair<std::string, int64_t>, std::vector<Figure>>> read;
  std::set<std::pair<std::string, int64_t>> present;
  for (const auto& d : rows) {
    if (!IsFinal(d.state)) {
      ++running[d.app];
      continue;
    }
    present.insert({d.app, d.id});
    if (known.count({d.app, d.id})) continue;
    auto full = store_->GetDeployment(d.app, d.name);
    if (!full.ok()) {
      if (full.error().code == ErrorCode::kNotFound) continue;  // pruned meanwhile
      return full.error();
    }
    read.push_back({{d.app, d.id}, FiguresOf(*full)});
  }
  // The records in the store now, and what the pruned ones added: a record pruned since it
  // was read is in the second and must leave the first.
  Figures figures = std::move(*pruned);
  {
    MutexLock lock(&mu_);
    for (auto& [key, f] : read) finished_.emplace(key, std::move(f));
    for (auto it = finished_.begin(); it != finished_.end();) {
      if (!present.count(it->first)) {
        it = finished_.erase(it);
        continue;
      }
      for (const auto& [series, value] : it->second) figures[series] += value;
      ++it;
    }
    // A record pruned between the two reads above is in neither, for this one scrape: never
    // let a series go below what it showed before (the next scrape has it again).
    for (const auto& [series, value] : shown_) figures[series] = std::max(figures[series], value);
    shown_ = figures;
  }

  Exposition out;
  auto& total = out.Add("lastgood_deployments_total", Exposition::Type::kCounter,
                        "Finished deployments by app, kind, trigger and outcome.");
  for (const auto& [l, v] : CounterOf(figures, kFigDeployments, 4))
    total.Sample(Labels({"app", "kind", "trigger", "outcome"}, l), v);
  auto& rollbacks = out.Add("lastgood_automatic_rollbacks_total", Exposition::Type::kCounter,
                            "Rollbacks the controller started itself, after a failure.");
  auto auto_rollbacks = CounterOf(figures, kFigAutoRollbacks, 1);
  for (const auto& [app, _] : running) auto_rollbacks[{app}] += 0;  // every app, 0 included
  for (const auto& [l, v] : auto_rollbacks) rollbacks.Sample(Labels({"app"}, l), v);
  auto& analyses = out.Add("lastgood_analysis_verdicts_total", Exposition::Type::kCounter,
                           "Ended analysis steps by verdict: pass, fail or undecided.");
  for (const auto& [l, v] : CounterOf(figures, kFigAnalysisVerdicts, 2))
    analyses.Sample(Labels({"app", "verdict"}, l), v);
  auto& now = out.Add("lastgood_deployments_running", Exposition::Type::kGauge,
                      "Deployments running now (at most one per app).");
  for (const auto& [app, n] : running) now.Sample({{"app", app}}, n);
  auto& took = out.Add("lastgood_deployment_duration_seconds", Exposition::Type::kHistogram,
                       "How long finished deployments took, from start to end.");
  for (const auto& [l, s] :
       HistogramOf(figures, kFigDeploymentSeconds, 3, kDeploymentSecondsBounds.size())) {
    took.Histogram(Labels({"app", "kind", "outcome"}, l), kDeploymentSecondsBounds, s.counts,
                   s.sum);
  }
  auto& step = out.Add("lastgood_step_duration_seconds", Exposition::Type::kHistogram,
                       "How long the steps of deployments took (those that succeeded or failed).");
  for (const auto& [l, s] : HistogramOf(figures, kFigStepSeconds, 2, kStepSecondsBounds.size()))
    step.Histogram(Labels({"app", "step"}, l), kStepSecondsBounds, s.counts, s.sum);
  auto& commit = out.Add("lastgood_store_commit_seconds", Exposition::Type::kHistogram,
                         "How long the store's write transactions took to commit, since the "
                         "controller started.");
  CommitLatencySnapshot c = CommitLatency();
  commit.Histogram({}, kCommitLatencyBounds, c.counts, c.sumSeconds);
  return out.Text();
}

}  // namespace lastgood
