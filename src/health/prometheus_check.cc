#include "health/prometheus_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lastgood {
namespace {

std::string Limits(const QueryLimits& l) {
  std::string out;
  if (l.min) out += "min " + QueryValueText(*l.min);
  if (l.max) out += std::string(out.empty() ? "" : ", ") + "max " + QueryValueText(*l.max);
  return out;
}

// How far beyond its nearest limit `v` is (negative: how far within), to find the worst series.
double Excess(double v, const QueryLimits& l) {
  double excess = -INFINITY;
  if (l.max) excess = std::max(excess, v - *l.max);
  if (l.min) excess = std::max(excess, *l.min - v);
  return excess;
}

}  // namespace

std::string ExpandQuery(const std::string& query, const QueryPlaceholders& values) {
  std::string out;
  size_t i = 0;
  while (i < query.size()) {
    size_t open = query.find("{{", i);
    size_t close = open == std::string::npos ? open : query.find("}}", open + 2);
    if (close == std::string::npos) break;
    std::string name = query.substr(open + 2, close - open - 2);
    const std::string* value = name == "canary"   ? &values.canary
                               : name == "stable" ? &values.stable
                               : name == "app"    ? &values.app
                               : name == "slot"   ? &values.slot
                                                  : nullptr;
    out += query.substr(i, open - i);
    out += value ? *value : query.substr(open, close + 2 - open);
    i = close + 2;
  }
  return out + query.substr(std::min(i, query.size()));
}

std::string QueryValueText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

QueryVerdict JudgeQuery(const std::string& name, const QueryLimits& limits,
                        const PrometheusAnswer& answer) {
  QueryVerdict verdict;
  const PrometheusSample* worst = nullptr;
  int values = 0;
  for (const auto& s : answer.samples) {
    if (std::isnan(s.value)) continue;
    ++values;
    if (!worst || Excess(s.value, limits) > Excess(worst->value, limits)) worst = &s;
  }
  if (!worst) {
    verdict.detail = name + ": no data yet (" +
                     (answer.samples.empty() ? std::string("no series matched")
                                             : std::string("the value is NaN")) +
                     "; " + Limits(limits) + ")";
    return verdict;
  }
  std::string what = name + (worst->labels.empty() || values == 1 ? "" : worst->labels) + " = " +
                     QueryValueText(worst->value);
  if (limits.max && worst->value > *limits.max) {
    verdict.kind = QueryVerdict::Kind::kFail;
    verdict.detail = what + " > max " + QueryValueText(*limits.max);
  } else if (limits.min && worst->value < *limits.min) {
    verdict.kind = QueryVerdict::Kind::kFail;
    verdict.detail = what + " < min " + QueryValueText(*limits.min);
  } else {
    verdict.kind = QueryVerdict::Kind::kPass;
    verdict.detail = what + " (" + Limits(limits) + ")";
  }
  if (values > 1) verdict.detail += ", the worst of " + std::to_string(values) + " series";
  return verdict;
}

}  // namespace lastgood
