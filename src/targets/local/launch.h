// Launch of one instance process: everything that can allocate or fail is prepared in a
// LaunchPlan before fork(); SpawnInstance() then forks and the child makes only
// async-signal-safe calls (setsid, chdir, open, dup2, sigaction, close_range, execve).
//
// Internal to targets/local. Thread-safe: no shared state; safe to call while other threads
// run (the child never touches locks or the heap).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "targets/target.h"

namespace lastgood {

struct LaunchPlan {
  std::string exec_path;  // what execve receives: argv[0] resolved against PATH if bare
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=value"
  std::string cwd;
  std::string out_log;
  std::string err_log;
  std::string argv0;  // as written, for error messages
};

// Expands "${PORT}" and "${NAME}" (NAME from spec.env) in argv and env values; other ${X}
// are left as written. Env = PATH, HOME, LANG base + PORT + spec.env + LASTGOOD_INSTANCE.
// InvalidInput for an empty argv; Failed when a bare argv[0] is not found on PATH.
Result<LaunchPlan> PlanLaunch(const InstanceSpec& spec, int port);

// Forks and execs the plan in a new session. Returns the pid once execve succeeded;
// Failed with the reason (naming argv[0], the cwd or the log file) when it did not.
Result<int> SpawnInstance(const LaunchPlan& plan);

// What /proc says of a pid: its start time and whether it has exited (zombie).
struct ProcessState {
  uint64_t start_time = 0;  // 0: no such process
  bool zombie = false;
};
ProcessState ReadProcessState(int pid);

// "exited with status 1" / "killed by signal 9" from a waitpid status.
std::string DescribeWaitStatus(int status);

}  // namespace lastgood
