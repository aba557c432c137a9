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
    kPrepare,  // the release directory and artifact of `version` are in place
    kStart,    // at least `count` ready instances of `version` in the slot
    kStopOld,  // at most `count` instances of versions other than `version` in the slot
    kBake,     // every instance of `version` stays alive and ready for `duration`
    kFinish,   // the slot runs `version`; the deployment's verdict is recorded
  };
  Op op = Op::kPrepare;
  int version = 0;
  int count = 0;
  Millis duration{0};

  bool operator==(const Step&) const = default;
};

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
};

// recreate: stop every old instance, then start all new ones.
// rolling: grow the new version and shrink the old by maxSurge / maxUnavailable, as
// Kubernetes does: at most replicas + maxSurge instances, at least replicas -
// maxUnavailable of them ready, at every moment.
// bluegreen and canary need the router and are planned as rolling here (issue 4).
// When the version has `replicas` warm instances (a rollback inside keepPrevious), the
// plan brings them all back, then retires the others: traffic moves in one table change.
std::vector<Step> PlanDeployment(const PlanInput& input);

}  // namespace lastgood
