// Drainer: stops instances that have left the routing table, off the deployment's path.
// An instance out of the table takes no new requests, so the deployment goes on at once
// while its requests in flight get kDrainDelay to finish before SIGTERM (kamal-proxy's
// "drain outside the lock"). A deployment waits for its app's drains only at its end, so
// it never ends with an instance still stopping. Thread-safe; the destructor waits for
// every drain.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/duration.h"
#include "base/mutex.h"

namespace lastgood {

class Drainer {
 public:
  // Waits its delays on `clock`, which must outlive it.
  explicit Drainer(Clock* clock) : clock_(clock) {}
  ~Drainer();
  Drainer(const Drainer&) = delete;
  Drainer& operator=(const Drainer&) = delete;

  // Runs `stop` on its own thread after `delay`; `app` groups drains for WaitIdle.
  void Drain(const std::string& app, Millis delay, std::function<void()> stop) EXCLUDES(mu_);
  // Waits until every drain started for `app` has ended.
  void WaitIdle(const std::string& app) EXCLUDES(mu_);
  // Waits until every drain has ended.
  void WaitAll() EXCLUDES(mu_);

 private:
  Clock* const clock_;  // constant after construction
  Mutex mu_;
  CondVar idle_;
  std::map<std::string, int> pending_ GUARDED_BY(mu_);  // drains under way, per app
};

}  // namespace lastgood
