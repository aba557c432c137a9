// The verdict on one Prometheus query of an analysis (docs/manifest.md, analysis.prometheus):
// its placeholders filled in, and its answer held against its limits. Pure functions.
//
// Every value of the answer must lie within [min, max] (a limit not given is no limit); an
// answer with no value — no series matched, or only NaN (0/0 while nothing was counted) —
// says nothing yet, as too little data says nothing to the router's analysis (DESIGN.md
// section 4): it waits, and a verdict that never comes fails at the deadline.
#pragma once

#include <optional>
#include <string>

#include "health/prometheus_client.h"

namespace lastgood {

// What the placeholders of a query stand for when the analysis runs.
struct QueryPlaceholders {
  std::string canary;  // {{canary}}: the version under analysis, as the router labels it ("3")
  std::string stable;  // {{stable}}: the version the slot ran before ("2"; "0" for none)
  std::string app;     // {{app}}
  std::string slot;    // {{slot}}: the deployment's slot
};

// `query` with each {{name}} replaced (the manifest allows no other name; one left is kept).
std::string ExpandQuery(const std::string& query, const QueryPlaceholders& values);

struct QueryLimits {
  std::optional<double> min, max;
};

struct QueryVerdict {
  enum class Kind { kWait, kPass, kFail };
  Kind kind = Kind::kWait;
  // "error-rate = 0.0931 > max 0.01", "error-rate = 0.002 (max 0.01)", "error-rate: no data
  // yet"; with several series, the one that broke a limit (or the worst) and its labels.
  std::string detail;
};

QueryVerdict JudgeQuery(const std::string& name, const QueryLimits& limits,
                        const PrometheusAnswer& answer);

// "0.0931": a value as people read it, to 4 significant digits.
std::string QueryValueText(double v);

}  // namespace lastgood
