// Step: one idempotent step of a deployment's plan ("ensure", not "do"), as planned, stored
// with its operation, described for people, and what running it came to (StepResult).
// Each kind of step is carried out by its own file under engine/steps/.
//
// Value types and pure functions; thread-compatible.
#pragma once

#include <string>

#include "base/duration.h"
#include "base/result.h"
#include "manifest/manifest.h"

namespace lastgood {

struct Step {
  enum class Op {
    kPrepare,  // the release directory and artifact of `version` are in place
    kStart,    // at least `count` ready instances of `version` in the slot
    kStopOld,  // at most `count` instances of versions other than `version` in the slot
    kBake,     // every instance of `version` stays alive and ready for `duration`
    kFinish,   // the slot runs `version`; the deployment's verdict is recorded
    kHook,     // the manifest's hook `name` (preDeploy, postDeploy, preRollback, …) ran
    kWeight,   // the canary `version` takes `count` % of the slot's requests
    kPause,    // `duration` passed (0: until `lastgood resume`)
    kAnalyze,  // the analysis of canary step `count` (or kBlueGreenAnalysis, kWaveAnalysis…) passed
    kSmoke,    // bluegreen's smoke test passed against the preview slot
    kSettings,  // `version`'s instances in `slot` run with the sticky settings of slot `name`
    kWarmup,    // `version`'s instances in `slot` answer the manifest's warm-up request
    kSwitch,    // slots `slot` (source) and the deployment's (target) exchange places
    kTakeWarm,  // `count` warm instances of `version` take the slot's traffic, in one table change
  };
  Op op = Op::kPrepare;
  int version = 0;
  int count = 0;
  Millis duration{0};
  std::string slot;  // the slot the step acts on, when not the deployment's own
  std::string name;  // kHook: the hook; kSettings: whose settings; kFinish: a swap's phase
  // Fleet deployments (docs/fleets.md): the host the step acts on ("" = the whole
  // deployment, or the controller's own machine), and the wave it belongs to (0: none, or
  // before the first wave). Consecutive steps with a host and the same wave form a block
  // whose hosts the executor runs in parallel, each host's steps in order.
  std::string host{};
  int wave = 0;

  bool operator==(const Step&) const = default;
};

// kAnalyze's `count` for the analyses that are not a canary step's: bluegreen's (of preview
// traffic), and a fleet rolling update's after a wave — against the previous version where it
// still serves, or, after the last wave, where none does, against the limits alone.
inline constexpr int kBlueGreenAnalysis = -1;
inline constexpr int kWaveAnalysis = -2;
inline constexpr int kWaveAnalysisAlone = -3;

// kBake's `count` for the bake of a fleet bluegreen deployment after its switches: every
// switched host's instances of the version, and those hosts' production traffic added up
// (steps/fleet_gate.cc). 0: a wave's gate, or one machine's bake.
inline constexpr int kBakeSwitchedHosts = -1;

// The slot a bluegreen deployment to production brings the new version up in.
inline constexpr const char* kPreviewSlot = "staging";

// What running a step came to.
struct StepResult {
  enum class Kind { kOk, kFailed, kCanceled, kStopped };
  Kind kind = Kind::kOk;
  std::string detail;  // what happened, for the operation's record and the CLI
  static StepResult Ok(std::string d) { return {Kind::kOk, std::move(d)}; }
  static StepResult Failed(std::string d) { return {Kind::kFailed, std::move(d)}; }
};

// The analysis a kAnalyze step runs: canary step `count` of `m`, bluegreen's, or the rolling
// update's per wave; null when `m` has no such analysis.
const Analysis* AnalysisOf(const Step& step, const Manifest& m);

// One line for people: "start 2 instances of v3", "stop old instances down to 1", …
std::string Describe(const Step& step);
// The machine form stored with the operation, and back.
std::string StepToJson(const Step& step);
Result<Step> StepFromJson(const std::string& json);

}  // namespace lastgood
