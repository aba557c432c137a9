// The sandbox of an app's processes — instances, hooks, smoke tests, checks, exec probes —
// as the controller's Confinement decides it (process/confinement.h). Thread-safe.
#pragma once

#include <string>

#include "base/result.h"
#include "engine/engine.h"
#include "manifest/manifest.h"
#include "process/sandbox.h"

namespace lastgood {

// Unconfined (a default Sandbox) when `deps` has no Confinement (tests of the engine alone).
// An Error when the app's uid or state folder cannot be made: its processes must not start.
Result<Sandbox> SandboxFor(const EngineDeps& deps, const Manifest& m,
                           const std::string& release_dir, const std::string& label);

// What `status` says of the app's confinement; runsAs from the manifest of `version` (its
// run.user) and the uid the app was given, if any yet.
ConfinementView ConfinementOf(const EngineDeps& deps, const std::string& app, int version);

}  // namespace lastgood
