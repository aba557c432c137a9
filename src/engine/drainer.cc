#include "engine/drainer.h"

namespace lastgood {

Drainer::~Drainer() { WaitAll(); }

void Drainer::WaitAll() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] {
    for (auto& [app, n] : pending_) {
      if (n > 0) return false;
    }
    return true;
  });
}

void Drainer::Drain(const std::string& app, Millis delay, std::function<void()> stop) {
  {
    std::lock_guard lock(mu_);
    ++pending_[app];
  }
  // Detached: the count, not a join, tells when it is done (WaitIdle, the destructor).
  std::thread([this, app, delay, stop = std::move(stop)] {
    clock_->SleepFor(delay);
    stop();
    std::lock_guard guard(mu_);
    --pending_[app];
    idle_.notify_all();
  }).detach();
}

void Drainer::WaitIdle(const std::string& app) {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return pending_[app] == 0; });
}

}  // namespace lastgood
