// FaultStore: a Store (a StoreWrapper around a real one) that fails commits on demand, as
// leveldb's FaultInjectionTestEnv fails writes. Every mutating call is one commit.
//
//   FailFrom(n): the n-th commit from now and every later one fail (Unavailable, as a full
//                disk would), until Heal(); nothing of a failed commit is written.
//   CrashAfter(n): the same, and it never heals: the controller "died" right after its n-th
//                commit from now. OnCrash runs once, at the first refused commit, so a test
//                can freeze what else the dead controller could still touch.
//
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "store/store_wrapper.h"

namespace lastgood::testutil {

inline constexpr const char* kInjectedStoreFault = "disk I/O error (injected)";

class FaultStore : public StoreWrapper {
 public:
  explicit FaultStore(Store* real) : StoreWrapper(real) {}

  void FailFrom(int n) {
    std::lock_guard lock(mu_);
    left_ = n - 1;
    crash_ = false;
  }
  void CrashAfter(int n, std::function<void()> on_crash = {}) {
    std::lock_guard lock(mu_);
    left_ = n;
    crash_ = true;
    on_crash_ = std::move(on_crash);
  }
  void Heal() {
    std::lock_guard lock(mu_);
    left_ = -1;
  }
  // Commits that went through since the store was made.
  int Commits() const {
    std::lock_guard lock(mu_);
    return commits_;
  }
  // Commits refused so far.
  int Refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }

 protected:
  lastgood::Status BeforeWrite(std::string_view) override {
    std::function<void()> crashed;
    {
      std::lock_guard lock(mu_);
      if (left_ < 0) {
        ++commits_;
        return Status::Ok();
      }
      if (left_ > 0) {
        --left_;
        ++commits_;
        return Status::Ok();
      }
      ++refused_;
      if (crash_ && on_crash_) crashed = std::exchange(on_crash_, {});
    }
    if (crashed) crashed();
    return Error::Unavailable(kInjectedStoreFault);
  }

 private:
  mutable std::mutex mu_;
  int left_ = -1;  // commits still allowed; -1: no fault armed
  bool crash_ = false;
  std::function<void()> on_crash_;
  int commits_ = 0;
  int refused_ = 0;
};

}  // namespace lastgood::testutil
