// WaitUntil: polls a condition until it holds or a timeout passes, for end-to-end tests that
// wait on real processes and sockets. Every wait in a test must be bounded; this is the bound.
//
// Thread-safety: a free function; the predicate runs on the calling thread.
#pragma once

#include <chrono>
#include <thread>

namespace lastgood::testutil {

// Calls `predicate` until it returns true (→ true) or `timeout` has passed (→ false). The
// predicate runs at least once, then every `interval`. REQUIRES: predicate is callable as bool().
template <typename Predicate>
bool WaitUntil(Predicate predicate, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace lastgood::testutil
