// Finding instance processes that no record knows: after a crash in the instant between an
// instance's start and its record, or after a store was restored from a backup, a process
// may run that the history does not show. The controller stops them at start — but only
// what it can prove it started: each start leaves a launch record (the process's pid and
// start time, in a file of the controller's home, outside the store), and the process must
// still be that one and carry the instance marker the controller set (LASTGOOD_INSTANCE).
// An operator's shell that sits in a release folder is never one of them.
//
// Internal to targets/local. Thread-safe: files only, one per instance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lastgood {

class LaunchRecords {
 public:
  explicit LaunchRecords(std::string dir);  // "": records nothing, finds nothing

  struct Entry {
    std::string id;
    int pid = 0;
    uint64_t startTime = 0;
  };
  // Best effort: a record that cannot be written only costs the sweep of this instance.
  // Written with pid 0 ("pending") before each start, and with the process's pid and start
  // time once it runs, so that a crash in between still leaves a record.
  void Put(const std::string& id, int pid, uint64_t start_time) const;
  void Remove(const std::string& id) const;
  std::vector<Entry> All() const;

 private:
  const std::string dir_;
};

// Whether `pid` is still the process recorded for instance `id`: the same start time, not
// exited, and LASTGOOD_INSTANCE=id in its environment.
bool IsRecordedInstance(const LaunchRecords::Entry& entry);

// For a pending record: the session leaders that carry LASTGOOD_INSTANCE=id (the process
// whose start the controller did not live to record).
std::vector<int> FindPendingInstance(const std::string& id);

// SIGTERM to the process group, SIGKILL after `grace_ms`.
void StopProcessGroup(int pid, int grace_ms);

}  // namespace lastgood
