#include "targets/remote/host_checks.h"

#include <thread>

namespace lastgood {

HostChecks::~HostChecks() { WaitIdle(); }

bool HostChecks::Start(const std::string& host, Check check) {
  {
    std::lock_guard lock(mu_);
    if (!running_.insert(host).second) return false;
  }
  std::thread([this, host, check = std::move(check)] {
    pacer_.Acquire();
    check(host);
    pacer_.Release();
    std::lock_guard lock(mu_);
    running_.erase(host);
    idle_.notify_all();
  }).detach();
  return true;
}

void HostChecks::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return running_.empty(); });
}

}  // namespace lastgood
