// Child: one process we started and wait for with a deadline (hooks, exec probes). It holds
// a pidfd, so waiting costs no polling interval, and it never reaps before Reap(): an
// unreaped child keeps its pid — and so its process group id — from being reused while we
// may still signal the group.
//
// Not thread-safe: one owner waits for it.
#pragma once

#include "base/duration.h"

namespace lastgood {

class Child {
 public:
  explicit Child(int pid);
  ~Child();  // closes the pidfd; does not reap (call Reap)
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int pid() const { return pid_; }
  // Waits up to `slice` for it to exit; true once it has (still unreaped).
  bool ExitedWithin(Millis slice);
  // SIGTERM to its process group, SIGKILL to what is left of the group after `grace`.
  // REQUIRES: it was started in a group of its own (SpawnSpec::Detach).
  void StopGroup(Millis grace);
  // Waits for it to end and returns the waitpid status.
  int Reap();

 private:
  int pid_;
  int pidfd_;
};

}  // namespace lastgood
