// Target: where instances run. `local` (targets/local/) supervises processes on this host;
// ssh fleets and kubernetes come later behind the same interface.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "process/sandbox.h"

namespace lastgood {

struct InstanceSpec {
  std::string id;                 // unique, a plain name: "web-production-3-a1b2"
  std::vector<std::string> argv;  // "${PORT}" and "${VAR}" of env are expanded at start
  std::vector<std::pair<std::string, std::string>> env;  // added to a minimal base env
  // Names in `env` whose values are taken byte for byte, never expanded (secrets: a "${X}"
  // inside a password is part of it).
  std::vector<std::string> verbatimEnv;
  std::string cwd;           // the version's release directory
  std::string logDir;        // stdout → <logDir>/<id>.out.log, stderr → .err.log
  int port = 0;              // passed as $PORT; 0: the target picks a free one
  Millis stopGrace{10'000};  // SIGTERM, then SIGKILL after this
  // How it is confined (process/confinement.h); its state_dir is also its $HOME and
  // $LASTGOOD_STATE_DIR. The default confines nothing.
  Sandbox sandbox;
  // On a fleet host the node decides the sandbox with its own confinement (its home, uids
  // and users): the app the instance belongs to and the manifest's run.user ("" for none).
  // The local target reads neither.
  std::string app;
  std::string runUser;
};

// What the target knows of a running instance; enough to re-adopt it after a restart.
struct InstanceHandle {
  std::string id;
  int pid = 0;
  uint64_t startTime = 0;  // process start time (clock ticks since boot), guards pid reuse
  int port = 0;
};

struct InstanceStatus {
  bool alive = false;
  int restarts = 0;       // crashes after which the target restarted it
  std::string lastExit;   // "exited with status 1", "killed by signal 9", or ""
  InstanceHandle handle;  // the current process (changes after a restart)
};

class Target {
 public:
  virtual ~Target() = default;
  // Starts an instance; its own session/process group, so it outlives the controller.
  // Fails (with the reason: "run.command[0] './web': No such file or directory") when the
  // process cannot be started. A process that exits later is restarted with backoff.
  virtual Result<InstanceHandle> Start(const InstanceSpec& spec) = 0;
  // Takes over an instance started by an earlier controller, if its pid still runs the
  // same process (pid + start time); otherwise NotFound. The spec is kept for restarts.
  virtual Result<InstanceHandle> Adopt(const InstanceSpec& spec, const InstanceHandle& h) = 0;
  // SIGTERM to the process group, SIGKILL after the grace period; returns when it is gone.
  // Stopping an unknown or already-stopped instance succeeds.
  // Qualified: the Status() method below would otherwise change the meaning of `Status`.
  virtual lastgood::Status Stop(const std::string& id) = 0;
  // Current status; NotFound for an id that was never started or adopted.
  virtual Result<InstanceStatus> Status(const std::string& id) = 0;
  // Forget every instance without stopping it (the controller is shutting down).
  virtual void Detach() = 0;
  // Stops every instance process on this target that it does not supervise (neither started
  // nor adopted): after a crash between an instance's start and its record, or with a store
  // restored from an older backup, nothing runs that the history does not show. Called once
  // the records' instances were adopted.
  virtual void StopStrays() = 0;
};

// Picks a free TCP port on 127.0.0.1 that this process has not handed out recently.
Result<int> PickFreePort();

}  // namespace lastgood
