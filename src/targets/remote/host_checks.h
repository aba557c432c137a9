// HostChecks: the host monitor's checks, run side by side (docs/fleets.md, "Hosts"). Each
// check asks one host's node whether it answers, which takes up to kNodePingTimeout when the
// host hangs; run one after another, one hung host would hold back every host after it. Here
// each check runs on a thread of its own, at most `limit` at once (the transport's
// ConnectionPacer bounds them), and a host whose check is still under way is skipped rather
// than queued: a hung host holds one slot and delays nobody else.
//
// Thread-safe. The destructor waits for the checks under way; a check must therefore end
// (kNodePingTimeout bounds the node's answer) and must not touch what is destroyed before it.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "targets/remote/ssh.h"

namespace lastgood {

// Node checks under way at once: enough that 100 healthy hosts are checked well within the
// monitor's tick, few enough that a controller never runs a hundred threads for them.
inline constexpr int kMaxConcurrentChecks = 16;

class HostChecks {
 public:
  using Check = std::function<void(const std::string& host)>;

  explicit HostChecks(int limit = kMaxConcurrentChecks) : pacer_(limit) {}
  ~HostChecks();  // waits for the checks under way
  HostChecks(const HostChecks&) = delete;
  HostChecks& operator=(const HostChecks&) = delete;

  // Starts check(host) on a thread of its own and returns at once; false (and nothing runs)
  // when a check of `host` is still under way.
  bool Start(const std::string& host, Check check);
  // Returns once no check is under way.
  void WaitIdle();
  // Most checks seen running at once.
  int peak() const { return pacer_.peak(); }

 private:
  ConnectionPacer pacer_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::set<std::string> running_;  // GUARDED_BY(mu_): hosts whose check is under way
};

}  // namespace lastgood
