// What the engine needs to know of a stored version to act on it: its manifest, its
// release directory, and the plan of a deployment of it into a slot.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "manifest/manifest.h"

namespace lastgood {

// The version's manifest, parsed back from its canonical form.
Result<Manifest> LoadManifest(const EngineDeps& deps, const std::string& app, int version);

// Ensures the version's release directory exists with its artifact (idempotent); returns
// its path. Fails when the artifact is missing from the store.
Result<std::string> ReleaseDirFor(const EngineDeps& deps, const std::string& app, int version);

// What planning a deployment of `version` (manifest `m`) into `slot` needs to know of the
// slot now: instances of other versions, warm ones, ones kept in the preview slot, hooks.
Result<PlanInput> PlanInputFor(const EngineDeps& deps, const std::string& app,
                               const std::string& slot, int version, const Manifest& m,
                               DeploymentKind kind);

// The plan of deploying `version` into `slot` as things stand now.
Result<PlannedOperations> PlanFor(const EngineDeps& deps, const std::string& app,
                                  const std::string& slot, int version,
                                  DeploymentKind kind = DeploymentKind::kDeploy);

// An operation as a line of a plan: "h2: run 2 ready instances of v3" for a host's step.
inline std::string PlanLine(const Operation& op) {
  return (op.host.empty() ? "" : op.host + ": ") + op.step;
}

// Steps as the operations a deployment record stores.
PlannedOperations ToOperations(const std::string& strategy, const std::vector<Step>& steps);

}  // namespace lastgood
