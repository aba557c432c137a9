// The plan of a deployment: a list of idempotent steps, computed up front (that list is
// what --what-if prints) and stored with the deployment, so that after a crash the
// executor re-runs the current step and goes on (DESIGN.md section 4).
//
// Planning is a pure function of the strategy, the replica count and what the slot runs.
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "manifest/manifest.h"

namespace lastgood {

struct Step {
  enum class Op {
    kPrepare,   // the release directory and artifact of `version` are in place
    kStart,     // at least `count` ready instances of `version` in the slot
    kStopOld,   // at most `count` instances of versions other than `version` in the slot
    kBake,      // every instance of `version` stays alive and ready for `duration`
    kFinish,    // the slot runs `version`; the deployment's verdict is recorded
    kHook,      // the manifest's hook `name` (preDeploy, postDeploy, preRollback, …) ran
    kWeight,    // the canary `version` takes `count` % of the slot's requests
    kPause,     // `duration` passed (0: until `lastgood resume`)
    kAnalyze,   // the analysis of canary step `count` (-1: bluegreen's) passed
    kSmoke,     // bluegreen's smoke test passed against the preview slot
    kSettings,  // `version`'s instances in `slot` run with the sticky settings of slot `name`
    kWarmup,    // `version`'s instances in `slot` answer the manifest's warm-up request
    kSwitch,    // slots `slot` (source) and the deployment's (target) exchange places
  };
  Op op = Op::kPrepare;
  int version = 0;
  int count = 0;
  Millis duration{0};
  std::string slot;  // the slot the step acts on, when not the deployment's own
  std::string name;  // kHook: the hook; kSettings: whose settings; kFinish: a swap's phase

  bool operator==(const Step&) const = default;
};

// The analysis a kAnalyze step runs: canary step `count` of `m`, or (count -1) bluegreen's;
// null when `m` has no such analysis.
const Analysis* AnalysisOf(const Step& step, const Manifest& m);

// One line for people: "start 2 instances of v3", "stop old instances down to 1", …
std::string Describe(const Step& step);
// The machine form stored with the operation, and back.
std::string StepToJson(const Step& step);
Result<Step> StepFromJson(const std::string& json);

struct PlanInput {
  int version = 0;  // the version being deployed
  int replicas = 1;
  Strategy strategy;  // of the version being deployed
  Millis bake{0};
  int oldInstances = 0;   // live instances of other versions in the slot now
  int warmInstances = 0;  // instances of `version` kept warm (keepPrevious), out of traffic
  // Ready instances of `version` in the preview slot, kept there by a bluegreen swap: a
  // rollback to them is a swap back.
  int previewInstances = 0;
  std::string preHook, postHook;  // hook names to run, if the manifest has them, or ""
};

// The slot a bluegreen deployment to production brings the new version up in.
inline constexpr const char* kPreviewSlot = "staging";

// recreate: stop every old instance, then start all new ones.
// rolling: grow the new version and shrink the old by maxSurge / maxUnavailable, as
// Kubernetes does: at most replicas + maxSurge instances, at least replicas -
// maxUnavailable of them ready, at every moment.
// canary: the canary gets 0% first, then each step of the manifest in order (a weight step
// starts ceil(replicas × weight / 100) canary instances, then moves the share); at the end
// the canary is scaled to `replicas`, takes 100%, and the old version stops. With nothing
// running yet there is no stable version to compare with: planned as rolling.
// bluegreen: the new version comes up in the preview slot (kPreviewSlot), is verified, and
// the slots are swapped; with nothing running yet: planned as rolling.
// When the version has `replicas` warm instances (a rollback inside keepPrevious), the
// plan brings them all back, then retires the others: traffic moves in one table change;
// with `replicas` of them in the preview slot, the plan is a swap back.
std::vector<Step> PlanDeployment(const PlanInput& input);

// The swap of `source` into `target` (App Service's phases): `phase` is "swap" (all),
// "preview" (settings only), "complete" (the rest after a preview) or "cancel" (the source
// back to its own settings). `sourceVersion` runs in source, `targetVersion` in target.
std::vector<Step> PlanSwap(const std::string& source, const std::string& target,
                           const std::string& phase, int sourceVersion, int targetVersion);

}  // namespace lastgood
