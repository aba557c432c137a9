// Finding instance processes that no record knows: after a crash in the instant between an
// instance's start and its record, or after a store was restored from a backup, a process
// may run in a release directory with no record. The controller stops them at start, so
// nothing runs that the history does not show.
#pragma once

#include <string>
#include <vector>

namespace lastgood {

struct InstanceProcess {
  int pid = 0;             // a session leader (instances run in their own session)
  std::string instanceId;  // its LASTGOOD_INSTANCE, or "" if unreadable
};

// Every session-leader process whose working directory is inside `releases_root`.
std::vector<InstanceProcess> FindInstanceProcesses(const std::string& releases_root);

// SIGTERM to the process group, SIGKILL after `grace_ms`.
void StopProcessGroup(int pid, int grace_ms);

}  // namespace lastgood
