// The router process as the controller sees it: started if it is not running, restarted
// if it dies, and told the whole table again after each start (DESIGN.md section 3). The
// router runs in its own session, so it — and the traffic it carries — outlives the
// controller; a restarted controller finds it on the control socket and leaves it be —
// unless it is another build (an upgrade or a downgrade of lastgood): then it hands the data
// plane over to its own build with `lastgood router --take-over` (issue 13, docs/router.md
// "Upgrading"), without a failed request.
// As a RouterControl it is the engine's way to the router: a call that finds no router
// starts one and is made once more, so a deployment that comes right after the router died
// is served through the new one rather than failed (the upkeep tick may not have come yet).
// Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "process/spawn.h"
#include "router/control.h"

namespace lastgood {

inline constexpr Millis kRouterStartTimeout{5'000};
// How long a take-over may take before serve gives up and keeps the running router.
inline constexpr Millis kRouterTakeOverTimeout{15'000};
// After a take-over that failed, the next one is tried no sooner than this: a router that
// cannot hand over (a build from before the keeper) is not sent a new process every tick.
inline constexpr Millis kRouterTakeOverRetry{30'000};

class RouterProcess : public RouterControl {
 public:
  // `exe` is this lastgood binary; the router is `exe router --home HOME [--threads N]`
  // (`threads` 0: the router sizes itself to the CPUs it may use).
  RouterProcess(std::string exe, std::string home, RouterControl* control, int threads = 0)
      : exe_(std::move(exe)), home_(std::move(home)), control_(control), threads_(threads) {}

  // The address the router it starts serves GET /metrics on (`router --admin ADDR`; "" none);
  // without a call, the router's default (a free loopback port, written to router.admin).
  // A router that already runs keeps its address until it is started again.
  // REQUIRES: called before the first Ensure.
  void SetMetricsAddress(std::string address) { metrics_address_ = std::move(address); }
  // Who its log lines are from ("lastgood serve", the default, or "lastgood node").
  // REQUIRES: called before the first Ensure.
  void SetLogName(std::string name) { log_name_ = std::move(name); }

  // OK when a router answers on the control socket, starting one if none does. Sets
  // *started when it had to start one (the caller then publishes the table). A router of
  // another build is replaced by one of this build (a take-over: its table stays in force);
  // if that fails, the running router is kept, the log says why, and the take-over is tried
  // again kRouterTakeOverRetry later.
  Status Ensure(bool* started);

  Status Apply(const RoutingTable& table) override;
  Result<RouterStats> Stats(Millis window) override;
  Status Ping() override { return control_->Ping(); }
  Result<RouterHealth> Health() override { return control_->Health(); }

 private:
  // True when the router was not there and is now: the failed call is worth making again.
  bool Revived(const Error& e);
  // `exe router --home H [--admin A] [--threads N] extra...`.
  SpawnSpec RouterSpawn(const std::vector<std::string>& extra) const;
  // REQUIRES: mu_ held.
  void HandOverIfOtherBuild();
  void ReapLocked();

  std::string exe_, home_;
  RouterControl* control_;
  std::optional<std::string> metrics_address_;  // constant once Ensure was called
  std::string log_name_ = "lastgood serve";     // constant once Ensure was called
  const int threads_;
  std::mutex mu_;
  int child_ = 0;             // GUARDED_BY(mu_): the router this controller started, to reap it
  std::vector<int> retired_;  // GUARDED_BY(mu_): earlier ones, reaped once they exit
  // GUARDED_BY(mu_): no take-over is tried before then (one failed).
  std::chrono::steady_clock::time_point next_take_over_{};
};

}  // namespace lastgood
