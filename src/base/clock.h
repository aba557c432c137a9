// Clock: the seam for time, so that tests can jump it (STYLE.md rule 4). Everything that
// waits a duration (the engine's pauses, polls and backoffs, the drainer) waits through
// SleepFor, so that a fake clock (tests/testutil/fake_clock.h) makes those waits instant and
// deterministic. Thread-safe: implementations must be callable from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lastgood {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch (for records).
  virtual int64_t NowMillis() = 0;
  // A monotonic time point (for deadlines and intervals).
  virtual std::chrono::steady_clock::time_point Steady() = 0;
  // Blocks the calling thread for `d` of this clock's time (the real one: sleeps).
  virtual void SleepFor(std::chrono::milliseconds d);
  // The real clock, shared by everyone.
  static Clock* Real();
};

// RFC 3339 UTC with milliseconds: "2026-11-27T22:53:10.123Z".
std::string FormatTimestamp(int64_t epoch_millis);

}  // namespace lastgood
