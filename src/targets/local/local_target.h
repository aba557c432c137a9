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

// `releases_root` ("<home>/releases") is where instances run: StopStrays() looks for processes
// there. Empty: StopStrays() does nothing.
std::unique_ptr<Target> NewLocalTarget(std::string releases_root = "");

}  // namespace lastgood
