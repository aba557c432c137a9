// What /proc says of a process, and how its end reads in a record. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace lastgood {

struct ProcessState {
  uint64_t start_time = 0;  // clock ticks since boot; 0: no such process
  bool zombie = false;      // it has exited and waits to be reaped
  int ppid = 0;
};
ProcessState ReadProcessState(int pid);

// /proc/<pid>/stat start time, or 0 if there is no such process. With the pid it names one
// process for good: a pid may be reused, a (pid, start time) pair is not.
uint64_t ProcessStartTime(int pid);

// "exited with status 1" / "killed by signal 9" from a waitpid status.
std::string DescribeWaitStatus(int status);

}  // namespace lastgood
