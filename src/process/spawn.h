// Spawn: the one way lastgood starts another program — instances (targets/local), hooks,
// exec probes, the router and tar all go through it, so that argv never passes through a
// shell, the child's signals, descriptors and environment are reset in one place, and the
// confinement of deployed code (process/sandbox.h) is applied in one place.
//
// Everything that can allocate or fail is prepared before the clone; the child then makes
// only async-signal-safe system calls until execve. Spawn returns once execve succeeded, or
// with the stage that failed ("cwd '/x': No such file or directory").
//
// Thread-safe: no shared state; safe while other threads run and fork.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "process/sandbox.h"

namespace lastgood {

// Where one of the child's standard descriptors comes from.
struct Stdio {
  enum class Kind { kInherit, kNull, kFd, kAppendFile };
  Kind kind = Kind::kNull;
  int fd = -1;       // kFd: a descriptor of the caller, dup'ed onto the child's
  std::string path;  // kAppendFile: opened O_APPEND|O_CREAT (0600) by the child

  static Stdio Inherit() { return {Kind::kInherit, -1, ""}; }
  static Stdio Null() { return {Kind::kNull, -1, ""}; }
  static Stdio Fd(int fd) { return {Kind::kFd, fd, ""}; }
  static Stdio AppendTo(std::string path) { return {Kind::kAppendFile, -1, std::move(path)}; }
};

struct SpawnSpec {
  // argv[0] is resolved by the caller (ResolveCommand in process/path.h) into exec_path;
  // exec_path relative to cwd is fine: the child changes directory before execve.
  std::string exec_path;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value": the child's whole environment
  std::string cwd;               // empty: the caller's
  Stdio in = Stdio::Null(), out = Stdio::Null(), err = Stdio::Null();
  // kGroup: a process group of its own, so the caller can signal what it starts too;
  // kSession: a session of its own (also a group), detached from the caller's terminal.
  enum class Detach { kNone, kGroup, kSession };
  Detach detach = Detach::kNone;
  // Deployed code: confined as process/sandbox.h says. The pid returned is then its init's,
  // in a session of its own (detach is ignored); signal its group to reach the program.
  Sandbox sandbox;
};

// Which stage of the child failed, for callers that word the error themselves.
enum class SpawnStage { kNone, kSetup, kCwd, kStdin, kStdout, kStderr, kExec };

inline constexpr int kSandboxStartTimeoutMillis = 10'000;

struct SpawnFailure {
  SpawnStage stage = SpawnStage::kNone;
  int err = 0;  // errno
};

// Starts the program. Returns its pid once execve succeeded (confined: once the init has
// made the mounts and the program was exec'd; at most kSandboxStartTimeout). On failure the Error
// says which stage failed, naming argv[0] ("'./x': No such file or directory"), the cwd or the log
// file; `failure`, when given, gets the stage and errno.
Result<int> Spawn(const SpawnSpec& spec, SpawnFailure* failure = nullptr);

}  // namespace lastgood
