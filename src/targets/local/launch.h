// Launch of one instance process: the instance's argv, environment, cwd and log files as a
// SpawnSpec (process/spawn.h), started in a session of its own.
//
// Internal to targets/local. Thread-safe: no shared state.
#pragma once

#include <string>

#include "base/result.h"
#include "process/spawn.h"
#include "targets/target.h"

namespace lastgood {

struct LaunchPlan {
  SpawnSpec spawn;    // exec_path: argv[0] resolved against the instance's PATH if bare
  std::string argv0;  // as written, for error messages
};

// Expands "${PORT}" and "${NAME}" (NAME from spec.env) in argv and env values; other ${X}
// are left as written. Env = PATH, HOME, LANG base + PORT + spec.env + LASTGOOD_INSTANCE.
// InvalidInput for an empty argv; Failed when a bare argv[0] is not found on PATH.
Result<LaunchPlan> PlanLaunch(const InstanceSpec& spec, int port);

// Starts the plan in a new session. Returns the pid once execve succeeded; Failed with the
// reason (naming argv[0], the cwd or the log file) when it did not.
Result<int> SpawnInstance(const LaunchPlan& plan);

}  // namespace lastgood
