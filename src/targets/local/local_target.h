// LocalTarget: a process supervisor on this host (the `local` target).
//
// Starts each instance with fork/exec from argv (never a shell), in its own session, with
// stdout/stderr appended to per-instance log files; watches it from one thread; restarts it
// with exponential backoff (kRestartBackoffMin doubling to kRestartBackoffMax) if it exits
// while wanted; stops it with SIGTERM then SIGKILL. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "targets/target.h"

namespace lastgood {

inline constexpr Millis kRestartBackoffMin{500};
inline constexpr Millis kRestartBackoffMax{30'000};

// `launch_dir` ("<home>/run/instances") keeps a launch record of each instance it starts
// (targets/local/orphans.h), by which StopStrays() knows what it may stop. Empty: no records,
// and StopStrays() does nothing.
std::unique_ptr<Target> NewLocalTarget(std::string launch_dir = "");

}  // namespace lastgood
