// The figures a finished deployment adds to the controller's metrics (docs/metrics.md): how
// many deployments of its kind, trigger and outcome, whether it was an automatic rollback,
// its analyses' verdicts, and its duration and its steps' in histogram buckets.
//
// One rule for the two places that count: the controller's /metrics, which sums the figures
// of the records in the store (api/metrics.h), and the store's retention, which adds the
// figures of the records it prunes to a tally kept in the store — so that a counter never
// goes down when history.keep deletes a record, even across a restart.
//
// A figure is a series key and an increment. The key is the family's short name and its
// label values (then, for a histogram, the bucket index or "sum"), joined by kFigureSeparator;
// label values never hold it (app names and the words below are plain). Pure functions.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "history/model.h"

namespace lastgood {

inline constexpr char kFigureSeparator = '\x1f';

// Upper bounds of the histograms' buckets, in seconds (then +Inf).
inline constexpr std::array<double, 10> kDeploymentSecondsBounds = {1,   5,   10,  30,   60,
                                                                    120, 300, 600, 1800, 3600};
inline constexpr std::array<double, 11> kStepSecondsBounds = {0.01, 0.1, 0.5, 1,   5,   10,
                                                              30,   60,  300, 600, 1800};

// Families (the first part of a key) and their labels (the next parts):
inline constexpr char kFigDeployments[] = "deployments";             // app, kind, trigger, outcome
inline constexpr char kFigAutoRollbacks[] = "auto_rollbacks";        // app
inline constexpr char kFigAnalysisVerdicts[] = "analysis_verdicts";  // app, verdict
inline constexpr char kFigDeploymentSeconds[] = "deployment_seconds";  // app, kind, outcome, b
inline constexpr char kFigStepSeconds[] = "step_seconds";              // app, step, b
// b: the bucket's index in its bounds (bounds.size() for +Inf), or "sum".
inline constexpr char kFigSum[] = "sum";

using Figure = std::pair<std::string, double>;

// What `d` adds. REQUIRES: `d` is finished and carries its operations.
std::vector<Figure> FiguresOf(const Deployment& d);

// "deployments\x1fweb\x1fdeploy…": a key from its parts, and back.
std::string FigureKey(const std::vector<std::string>& parts);
std::vector<std::string> FigureParts(const std::string& key);

// The verdict of an ended analysis step: "pass", "fail", "undecided"; "" for one that did not
// end on its own (canceled, skipped).
std::string AnalysisVerdictOf(const Operation& op);

}  // namespace lastgood
