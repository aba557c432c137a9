// LocalTarget: a process supervisor on this host (the `local` target).
//
// Starts each instance with fork/exec from argv (never a shell), in its own session, with
// stdout/stderr appended to per-instance log files; watches it from one thread; restarts it
// with exponential backoff (kRestartBackoffMin doubling to kRestartBackoffMax) if it exits
// while wanted; stops it with SIGTERM then SIGKILL. Thread-safe.
#pragma once

#include <memory>

#include "targets/target.h"

namespace lastgood {

inline constexpr Millis kRestartBackoffMin{500};
inline constexpr Millis kRestartBackoffMax{30'000};

std::unique_ptr<Target> NewLocalTarget();

// /proc/<pid>/stat start time, or 0 if there is no such process.
uint64_t ProcessStartTime(int pid);

}  // namespace lastgood
