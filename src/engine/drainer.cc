#include "engine/drainer.h"

#include <thread>

namespace lastgood {

Drainer::~Drainer() { WaitAll(); }

void Drainer::WaitAll() {
  MutexLock lock(&mu_);
  idle_.Wait(&mu_, [&]() REQUIRES(mu_) {
    for (auto& [app, n] : pending_) {
      if (n > 0) return false;
    }
    return true;
  });
}

void Drainer::Drain(const std::string& app, Millis delay, std::function<void()> stop) {
  {
    MutexLock lock(&mu_);
    ++pending_[app];
  }
  // Detached: the count, not a join, tells when it is done (WaitIdle, the destructor).
  std::thread([this, app, delay, stop = std::move(stop)] {
    clock_->SleepFor(delay);
    stop();
    MutexLock lock(&mu_);
    --pending_[app];
    idle_.SignalAll();
  }).detach();
}

void Drainer::WaitIdle(const std::string& app) {
  MutexLock lock(&mu_);
  idle_.Wait(&mu_, [&]() REQUIRES(mu_) { return pending_[app] == 0; });
}

}  // namespace lastgood
