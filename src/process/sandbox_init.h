// The init of a confined process (process/sandbox.h): pid 1 of its pid namespace.
//
// Spawn clones a child into new pid and mount namespaces (and a user namespace when not
// root) and re-executes the running binary (/proc/self/exe) with kSandboxInitFlag as
// argv[1]. A constructor in sandbox_init.cc sees that flag before main() of any binary that
// links this module (lastgood, and the unit tests), and runs RunSandboxInit instead: it
// reads the SandboxLaunch from kSandboxSpecFd, makes the mounts, starts the program as
// pid 2, reports through kSandboxReportFd (a SpawnFailure, or end of file once the program
// was exec'd), then forwards signals and reaps until the program exits, and exits with its
// status (a program killed by signal N makes it exit 128+N: an init cannot die of a signal
// sent from inside its namespace).
//
// Internal to process/. Single-threaded by construction (it runs before main).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "process/sandbox.h"

namespace lastgood {

inline constexpr const char* kSandboxInitFlag = "--lastgood-sandbox-init";
inline constexpr int kSandboxSpecFd = 3;
inline constexpr int kSandboxReportFd = 4;

// What the init writes to kSandboxReportFd when the program could not be started.
struct SandboxReport {
  int stage;  // a SpawnStage
  int err;    // errno
  char what[256];
};

struct SandboxLaunch {
  Sandbox sandbox;
  std::string exec_path;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd;
};

std::string EncodeSandboxLaunch(const SandboxLaunch& launch);
std::optional<SandboxLaunch> DecodeSandboxLaunch(const std::string& bytes);

// Never returns.
[[noreturn]] void RunSandboxInit();

}  // namespace lastgood
