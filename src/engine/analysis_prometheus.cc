#include "engine/analysis_prometheus.h"

#include <future>

#include "health/prometheus_client.h"

namespace lastgood {
namespace {

// How much of an expanded query the final detail quotes.
constexpr size_t kMaxQuotedQuery = 300;

std::string Quoted(const std::string& query) {
  if (query.size() <= kMaxQuotedQuery) return " [" + query + "]";
  return " [" + query.substr(0, kMaxQuotedQuery) + "…]";
}

}  // namespace

PrometheusWatch::PrometheusWatch(const PrometheusAnalysis& config, const QueryPlaceholders& values,
                                 PrometheusAsk ask)
    : address_(config.address), ask_(std::move(ask)) {
  if (!ask_) {
    auto server = ParsePrometheusAddress(config.address);
    ask_ = [server](const std::string& query) -> Result<PrometheusAnswer> {
      if (!server.ok()) return server.error();
      return QueryPrometheus(*server, query);
    };
  }
  for (const auto& q : config.queries)
    queries_.push_back({q.name, ExpandQuery(q.query, values), {q.min, q.max}, std::nullopt});
}

void PrometheusWatch::Reset() {
  asked_.reset();
  for (auto& q : queries_) q.verdict.reset();
}

PrometheusVerdict PrometheusWatch::Look(TimePoint now) {
  if (refused_.empty() && (!asked_ || now - *asked_ >= kPrometheusLook)) {
    asked_ = now;
    std::vector<std::future<Result<PrometheusAnswer>>> answers;
    for (const auto& q : queries_)
      answers.push_back(std::async(std::launch::async, ask_, q.expanded));
    std::string unreachable;
    for (size_t i = 0; i < queries_.size(); ++i) {
      Result<PrometheusAnswer> answer = answers[i].get();
      if (answer.ok()) {
        queries_[i].verdict = JudgeQuery(queries_[i].name, queries_[i].limits, *answer);
      } else if (answer.error().code == ErrorCode::kInvalidInput) {
        refused_ = queries_[i].name + ": " + answer.error().message + Quoted(queries_[i].expanded);
      } else if (unreachable.empty()) {
        unreachable = answer.error().message;
      }
    }
    unanswered_ = unreachable.empty() ? 0 : unanswered_ + 1;
    unreachable_ = unreachable;
  }
  return Verdict();
}

PrometheusVerdict PrometheusWatch::Verdict() const {
  PrometheusVerdict v;
  if (!refused_.empty()) {
    v.kind = PrometheusVerdict::Kind::kFail;
    v.final = true;
    v.detail = "prometheus: " + refused_;
    return v;
  }
  if (unanswered_ >= kPrometheusUnreachableTries) {
    v.kind = PrometheusVerdict::Kind::kFail;
    v.final = true;
    v.detail = "prometheus at " + address_ + " cannot be asked (" + std::to_string(unanswered_) +
               " tries in a row): " + unreachable_;
    return v;
  }
  std::string failed, waiting, passed;
  for (const auto& q : queries_) {
    std::string& into = !q.verdict || q.verdict->kind == QueryVerdict::Kind::kWait ? waiting
                        : q.verdict->kind == QueryVerdict::Kind::kFail             ? failed
                                                                                   : passed;
    std::string text = q.verdict ? q.verdict->detail : q.name + ": not asked yet";
    if (q.verdict && q.verdict->kind != QueryVerdict::Kind::kWait) text += Quoted(q.expanded);
    into += (into.empty() ? "" : "; ") + text;
  }
  if (!failed.empty()) {
    v.kind = PrometheusVerdict::Kind::kFail;
    v.detail = "prometheus: " + failed;
    return v;
  }
  if (!waiting.empty() || !unreachable_.empty()) {
    v.detail =
        "prometheus: " +
        (unreachable_.empty() ? "" : "cannot be asked (" + unreachable_ + "), asking again; ") +
        waiting + (passed.empty() ? "" : "; " + passed);
    return v;
  }
  v.kind = PrometheusVerdict::Kind::kPass;
  v.detail = "prometheus: " + passed;
  return v;
}

}  // namespace lastgood
