// FakeClock: a Clock whose time moves only when told, or when someone sleeps on it. SleepFor
// advances the clock by the duration asked and returns at once, so a 10-minute pause, a
// backoff or an analysis window takes no real time, and every deadline measured on the
// clock still holds in the order it would have. Advance() jumps it from a test.
//
// Thread-safe. Steady() and NowMillis() move together; Steady() starts at an arbitrary
// point, NowMillis() at a fixed date so that records are reproducible.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "base/clock.h"

namespace lastgood::testutil {

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t epoch_millis = 1'800'000'000'000) : epoch_(epoch_millis) {}

  int64_t NowMillis() override { return epoch_ + elapsed_.load(); }
  std::chrono::steady_clock::time_point Steady() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(elapsed_.load()));
  }
  void SleepFor(std::chrono::milliseconds d) override {
    Advance(d);
    // A thread that waits in a loop lets the others run between two of its fake sleeps.
    std::this_thread::yield();
  }

  void Advance(std::chrono::milliseconds d) { elapsed_ += d.count() > 0 ? d.count() : 0; }
  // How much fake time has passed since the clock was made.
  std::chrono::milliseconds Elapsed() const { return std::chrono::milliseconds(elapsed_.load()); }

 private:
  const int64_t epoch_;
  std::atomic<int64_t> elapsed_{1'000'000};
};

}  // namespace lastgood::testutil
