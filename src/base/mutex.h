// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable_any with clang's
// thread-safety annotations (base/thread_annotations.h), which the standard library's own
// types do not carry. Use them for state that a GUARDED_BY names.
//
// Thread-safe, as the standard types they wrap. Not copyable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace lastgood {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` from construction to destruction, or to Unlock().
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_->unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() {
    mu_->unlock();
    held_ = false;
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// A condition variable waited on with a Mutex held; the wait releases it and takes it back.
class CondVar {
 public:
  // REQUIRES: `mu` held. Waits until `done()` or `timeout` passed; returns done().
  template <typename Predicate>
  bool WaitFor(Mutex* mu, std::chrono::milliseconds timeout, Predicate done) REQUIRES(mu) {
    return cv_.wait_for(*mu, timeout, done);
  }
  // REQUIRES: `mu` held. Waits until `done()`.
  template <typename Predicate>
  void Wait(Mutex* mu, Predicate done) REQUIRES(mu) {
    cv_.wait(*mu, done);
  }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace lastgood
