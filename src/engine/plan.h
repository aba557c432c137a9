// The plan of a deployment: a list of idempotent steps (engine/step.h), computed up front
// (that list is what --what-if prints) and stored with the deployment, so that after a
// crash the executor re-runs the current step and goes on (DESIGN.md section 4).
//
// Planning is a pure function of the strategy, the replica count and what the slot runs.
// Each strategy builds its part of the plan in its own file under engine/strategies/.
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "engine/step.h"
#include "manifest/manifest.h"

namespace lastgood {

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

// The swap of `source` into `target` of an app on fleet `hosts` (docs/fleets.md): every host's
// source instances take the target's settings and are warmed up, hosts in parallel; then the
// switch goes host by host (the first exchanges the slots in the store, each puts its own
// router's table in force, one host at a time, each its own wave so the record has each
// host's time); then the instances that left the target take the source's own settings.
// `phase` as PlanSwap's: "preview" stops after the settings, "cancel" gives every host's
// source instances their own settings back, "complete" is the rest of a swap.
std::vector<Step> PlanFleetSwap(const std::string& source, const std::string& target,
                                const std::string& phase, int sourceVersion, int targetVersion,
                                const std::vector<std::string>& hosts);

}  // namespace lastgood
