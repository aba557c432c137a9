// The Prometheus queries of an analysis step (docs/manifest.md, analysis.prometheus): asks
// each query of the manifest, with its placeholders filled in, at most once a second, and
// holds the latest answers against their limits.
//
// Their verdict joins the router's: the analysis passes only when every query passes too,
// and a query beyond its limit fails the window as a broken router limit does. No value yet
// (no series matched, NaN) waits, as too little data does. A Prometheus that cannot be asked
// never lets an analysis pass: after kPrometheusUnreachableTries asks in a row that got no
// answer, or at once when it refuses a query (bad PromQL), the verdict is final — the
// analysis fails with the reason.
//
// Not thread-safe: owned by the step that looks; Look blocks up to the query timeout (the
// queries are asked at the same time, each on its own thread).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "health/prometheus_check.h"
#include "manifest/manifest.h"

namespace lastgood {

inline constexpr Millis kPrometheusLook{1000};
inline constexpr int kPrometheusUnreachableTries = 3;

struct PrometheusVerdict {
  enum class Kind { kWait, kPass, kFail };
  Kind kind = Kind::kWait;
  bool final = false;  // kFail that no window or retry can undo: the analysis fails now
  std::string detail;  // "prometheus: error-rate = 0.0931 > max 0.01 [the query]"
};

// Asks one (expanded) query; QueryPrometheus in production, a fake in tests.
using PrometheusAsk = std::function<Result<PrometheusAnswer>(const std::string& query)>;

class PrometheusWatch {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `ask` empty: QueryPrometheus at `config.address`.
  PrometheusWatch(const PrometheusAnalysis& config, const QueryPlaceholders& values,
                  PrometheusAsk ask = {});

  // The verdict of the latest answers, asking again first when kPrometheusLook has passed
  // since the last ask (or none was made since Reset).
  PrometheusVerdict Look(TimePoint now);
  // Forgets the answers (a fresh window): the next Look asks again and waits until it has.
  void Reset();

 private:
  struct Query {
    std::string name, expanded;
    QueryLimits limits;
    std::optional<QueryVerdict> verdict;
  };
  PrometheusVerdict Verdict() const;

  std::string address_;
  PrometheusAsk ask_;
  std::vector<Query> queries_;
  std::optional<TimePoint> asked_;
  int unanswered_ = 0;       // asks in a row that got no answer
  std::string unreachable_;  // why the last ask got none
  std::string refused_;      // a query the server refused: final
};

}  // namespace lastgood
