// FakeTarget: a Target whose instances are entries in a table, not processes. An instance
// is alive from Start until Stop or Kill; it is "ready" as soon as it is alive (use
// manifests without a readiness probe with it). Like real processes, its instances outlive
// the engine that started them: a second engine given the same FakeTarget re-adopts them.
//
// Faults: Kill(id) makes an instance exit ("crash"), FailStarts() makes every Start fail,
// Freeze() makes the target refuse every change (what a controller that has died can no
// longer do) until Thaw(). HoldStarts() makes Start wait until released, so that a test can
// act while a step is in the middle of starting an instance.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "targets/target.h"

namespace lastgood::testutil {

class FakeTarget : public Target {
 public:
  Result<InstanceHandle> Start(const InstanceSpec& spec) override {
    std::unique_lock lock(mu_);
    ++held_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
    --held_;
    if (frozen_) return Error::Unavailable("the controller is gone (frozen fake target)");
    if (fail_starts_) return Error::Unavailable("run.command[0]: cannot start (fake)");
    Instance& i = instances_[spec.id];
    i.spec = spec;
    i.alive = true;
    i.handle = {spec.id, next_pid_++, 1000, spec.port};
    i.known = true;
    ++starts_;
    return i.handle;
  }

  Result<InstanceHandle> Adopt(const InstanceSpec& spec, const InstanceHandle& h) override {
    std::lock_guard lock(mu_);
    auto it = instances_.find(spec.id);
    if (it == instances_.end() || !it->second.alive || it->second.handle.pid != h.pid)
      return Error::NotFound("no process " + std::to_string(h.pid) + " for " + spec.id);
    it->second.spec = spec;
    it->second.known = true;
    return it->second.handle;
  }

  lastgood::Status Stop(const std::string& id) override {
    std::lock_guard lock(mu_);
    if (frozen_) return Error::Unavailable("the controller is gone (frozen fake target)");
    auto it = instances_.find(id);
    if (it != instances_.end()) it->second.alive = false;
    return Status::Ok();
  }

  Result<InstanceStatus> Status(const std::string& id) override {
    std::lock_guard lock(mu_);
    auto it = instances_.find(id);
    if (it == instances_.end()) return Error::NotFound("no instance " + id);
    InstanceStatus st;
    st.alive = it->second.alive;
    st.lastExit = it->second.alive ? "" : "exited with status 1";
    st.handle = it->second.handle;
    return st;
  }

  void Detach() override {}

  void StopStrays() override {
    std::lock_guard lock(mu_);
    if (frozen_) return;
    for (auto& [id, i] : instances_) {
      if (i.alive && !i.known) i.alive = false;
    }
  }

  // A new controller process takes over: it knows no instance until it starts or adopts it.
  void NewController() {
    std::lock_guard lock(mu_);
    for (auto& [id, i] : instances_) i.known = false;
  }

  // Faults.
  void Kill(const std::string& id) {
    std::lock_guard lock(mu_);
    instances_[id].alive = false;
  }
  void FailStarts(bool fail) {
    std::lock_guard lock(mu_);
    fail_starts_ = fail;
  }
  void HoldStarts(bool hold) {
    std::lock_guard lock(mu_);
    hold_ = hold;
    changed_.notify_all();
  }
  // Waits (at most `timeout`) until a Start is held; true if one is.
  bool WaitForHeldStart(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return held_ > 0 && hold_; });
  }
  void Freeze() {
    std::lock_guard lock(mu_);
    frozen_ = true;
  }
  void Thaw() {
    std::lock_guard lock(mu_);
    frozen_ = false;
  }

  // The spec instance `id` was last started or adopted with (empty if none).
  InstanceSpec SpecOf(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = instances_.find(id);
    return it == instances_.end() ? InstanceSpec{} : it->second.spec;
  }

  // What runs: the ids of the instances alive now.
  std::set<std::string> Alive() const {
    std::lock_guard lock(mu_);
    std::set<std::string> out;
    for (const auto& [id, i] : instances_) {
      if (i.alive) out.insert(id);
    }
    return out;
  }
  int Starts() const {
    std::lock_guard lock(mu_);
    return starts_;
  }

 private:
  struct Instance {
    InstanceSpec spec;
    InstanceHandle handle;
    bool alive = false;
    bool known = false;  // started or adopted by the current controller
  };
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, Instance> instances_;
  bool hold_ = false;
  int held_ = 0;
  int next_pid_ = 100'000;
  int starts_ = 0;
  bool fail_starts_ = false;
  bool frozen_ = false;
};

}  // namespace lastgood::testutil
