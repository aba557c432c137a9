// A wave's gate (docs/fleets.md): every instance of the version on the wave's hosts stays
// alive and ready for the bake, all hosts watched at once. One host whose instance dies or
// stops being ready fails the gate, and so the deployment.
#include <atomic>
#include <thread>

#include "engine/fleet_record.h"
#include "engine/host_scope.h"
#include "engine/release.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"

namespace lastgood {
namespace {

constexpr Millis kWatch{25};

}  // namespace

StepResult RunFleetBake(StepContext& ctx, const Step& step) {
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  const std::vector<std::string> hosts = WorkingHosts(d, step.wave);
  if (hosts.empty()) return StepResult::Ok("no host of this wave is left to bake");
  // The step's own thread reads the interruptions; the hosts' threads only look at them.
  std::atomic<StepResult::Kind> interrupted{StepResult::Kind::kOk};
  std::vector<StepResult> results(hosts.size());
  std::atomic<size_t> done{0};
  std::vector<std::thread> watchers;
  for (size_t i = 0; i < hosts.size(); ++i) {
    watchers.emplace_back([&, i] {
      auto scoped = ForHost(ctx.deps(), hosts[i]);
      if (!scoped.ok()) {
        results[i] = StepResult::Failed(scoped.error().message);
      } else {
        auto release = ReleaseDirFor(*scoped, d.app, step.version);
        if (!release.ok()) {
          results[i] = StepResult::Failed(release.error().message);
        } else {
          SlotInstances slot(*scoped, d.app, d.slot, [&] { return interrupted.load(); });
          results[i] = slot.Bake(step.version, m, *release);
        }
      }
      done.fetch_add(1);
    });
  }
  while (done.load() < hosts.size()) {
    interrupted = ctx.Interrupted();
    ctx.deps().clock->SleepFor(kWatch);
  }
  for (auto& t : watchers) t.join();
  std::string failures;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (results[i].kind == StepResult::Kind::kOk) continue;
    if (results[i].kind != StepResult::Kind::kFailed) return {results[i].kind, ""};
    failures += (failures.empty() ? "" : "; ") + hosts[i] + ": " + results[i].detail;
  }
  if (!failures.empty()) return StepResult::Failed(failures);
  return StepResult::Ok(std::to_string(hosts.size()) + " hosts healthy for " +
                        FormatDuration(m.bake));
}

}  // namespace lastgood
