// Running one deployment hook (preDeploy, postDeploy, preRollback, postRollback): a command
// started without a shell in the version's release directory, with a minimal environment,
// its output appended to a log file, bounded by a timeout and stoppable by the caller.
//
// Thread-safe: RunHook keeps no shared state; several may run at once (each blocks its
// caller). The child runs in its own process group, so that a timeout or an interruption
// stops whatever the hook started too (SIGTERM to the group, SIGKILL 2 s later).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "process/sandbox.h"

namespace lastgood {

// How long a hook has to exit after SIGTERM before its process group gets SIGKILL.
inline constexpr Millis kHookKillGrace{2000};
// How often RunHook asks whether it was interrupted.
inline constexpr Millis kHookPollInterval{50};

struct HookRun {
  std::string name;                  // "preDeploy", for messages and the log
  std::vector<std::string> command;  // argv, never through a shell; argv[0] with a '/' is taken
                                     // relative to cwd, a bare name is looked up on PATH
  Millis timeout{60'000};
  // Added to (and replacing) the minimal environment passed on from the controller: PATH,
  // HOME, LANG, TZ, TMPDIR, USER, LOGNAME. The caller adds LASTGOOD_APP, LASTGOOD_VERSION,
  // LASTGOOD_SLOT, LASTGOOD_DEPLOYMENT (and the version's run.env, if hooks should see it).
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;      // the version's release directory; empty: the controller's own
  std::string logPath;  // stdout and stderr are appended here; missing folders are created
  // How it is confined, as the app's instances are (process/confinement.h); its state_dir is
  // also its $HOME and $LASTGOOD_STATE_DIR. Confined, whatever it leaves behind (a double
  // fork, a setsid) ends with it: its pid namespace goes when the hook's process exits.
  Sandbox sandbox;
};

struct HookOutcome {
  std::string name;          // copied from HookRun::name
  Millis timeout{0};         // copied from HookRun::timeout
  bool ok = false;           // exited 0 in time and was not interrupted
  int exitCode = -1;         // the exit status, or 128 + the signal that ended it
  bool timedOut = false;     // ran past its timeout and was stopped
  bool interrupted = false;  // stopped because `interrupted()` said so
  std::string lastLine;      // the last non-empty line of its output (at most 200 bytes)
  Millis took{0};
  // For the operation record: "preDeploy ok (0.3s)", "preDeploy exited 3 after 1.2s: <last
  // line>", "preDeploy timed out after 60s", "preDeploy interrupted after 4.1s".
  std::string Describe() const;
};

// Runs the hook to completion, to its timeout, or until `interrupted` (may be empty; asked
// every kHookPollInterval) returns true; the last two stop its process group and give
// ok=false. An Error (kInvalidInput: empty command or a NUL/'=' in an env name; kFailed: not
// found, not executable, no such cwd, log not writable) means the hook never started, which
// callers should treat as a failed hook.
Result<HookOutcome> RunHook(const HookRun& run, const std::function<bool()>& interrupted);

}  // namespace lastgood
