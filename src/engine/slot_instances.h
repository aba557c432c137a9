// SlotInstances: the instances of one app's slot, made to match a step ("run N ready
// instances of v3", "stop other versions' instances down to 1", "bake v3"). Each call is
// idempotent: it counts what already runs (from the store and the target) and does only
// what is missing, so a step re-run after a crash does not start duplicates.
// One object per step run; not thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "engine/engine.h"
#include "engine/instance_spec.h"
#include "engine/step.h"
#include "health/probe.h"
#include "manifest/manifest.h"
#include "store/store.h"

namespace lastgood {

// An instance that left the routing table keeps running at least kDrainDelay (a request
// that chose it just before the table changed is counted by then), then until the router
// reports none of its requests in flight, at most kMaxDrain (the router's response timeout);
// then it is stopped, and the router closes its idle connections.
inline constexpr Millis kDrainDelay{200};
inline constexpr Millis kMaxDrain{30'000};
inline constexpr Millis kDrainPoll{50};

class SlotInstances {
 public:
  // `interrupted` returns Canceled/Stopped when the deployment must stop waiting.
  SlotInstances(const EngineDeps& deps, std::string app, std::string slot,
                std::function<StepResult::Kind()> interrupted);

  // At least `count` ready instances of `version` (whose manifest is `m`, release dir
  // `release_dir`), within `deadline` (the manifest's progressDeadline). With `settings`,
  // only instances that run with that slot's sticky settings count, and new ones get them.
  StepResult EnsureReady(int version, const Manifest& m, const std::string& release_dir, int count,
                         const std::optional<std::string>& settings = std::nullopt);
  // Every live instance of `version` runs with the sticky settings of slot `settings`: the
  // others are replaced (new ones ready first, then the old ones retired). A no-op when the
  // settings already give the same environment.
  StepResult EnsureSettings(int version, const Manifest& m, const std::string& release_dir,
                            const std::string& settings);
  // At most `count` live instances of versions other than `version`. The excess leaves
  // the routing table first, is given kDrainDelay for requests in flight, then stops —
  // except instances of `keep_warm` (the version being left), which stay running out of
  // the table until `warm_until` (epoch millis) so that a rollback is one table change.
  // keep_warm = 0 keeps nothing warm.
  StepResult StopOthers(int version, int count, int keep_warm = 0, int64_t warm_until = 0);
  // Stops warm instances of versions other than `keep` (only one previous version is
  // kept warm), and any whose time is up. keep < 0: only those whose time is up.
  StepResult StopStaleWarm(int keep);
  // Every instance of `version` stays alive and ready for `m.bake`.
  StepResult Bake(int version, const Manifest& m, const std::string& release_dir);

  // Takes instances out of the table, waits kDrainDelay, stops them, forgets them.
  StepResult Retire(const std::vector<InstanceRecord>& instances);
  // Sends the routing table (if there is a router); a failure is reported, not fatal to
  // instances that already serve.
  Status Publish();

 private:
  StepResult Interrupted();
  // The sandbox of an exec readiness probe of `m` (unconfined for http and tcp probes).
  Result<Sandbox> ExecProbeSandbox(const Manifest& m, const std::string& release_dir);

  // Sleeps up to `d`, waking early when interrupted; returns false if interrupted.
  bool Sleep(Millis d);

  const EngineDeps& deps_;
  std::string app_, slot_;
  std::function<StepResult::Kind()> interrupted_;
};

// One readiness probe where the instance listens: this machine, or its fleet host's node.
ProbeResult ProbeOn(const EngineDeps& deps, const ProbeSpec& spec);

// A live instance serves, or is about to: not kept warm (keepPrevious) and not on its way
// out (draining). Plans and steps count only live instances of other versions.
inline bool IsLive(const InstanceRecord& rec) {
  return rec.state != InstanceState::kWarm && rec.state != InstanceState::kDraining;
}

}  // namespace lastgood
