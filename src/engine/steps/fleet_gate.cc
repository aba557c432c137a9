// A wave's gate (docs/fleets.md): every instance of the version on the wave's hosts stays
// alive and ready for the bake, all hosts watched at once. One host whose instance dies or
// stops being ready fails the gate, and so the deployment.
//
// A bluegreen deployment's bake comes after its switches (kBakeSwitchedHosts): it watches
// every switched host's instances the same way and, when the manifest has a
// strategy.bluegreen.analysis, the production traffic of those hosts added up (their routers'
// counts merged, engine/fleet_stats.h), judged against that analysis' limits — nothing of the
// previous version serves production any more to compare with.
#include <algorithm>
#include <atomic>
#include <thread>

#include "engine/analysis.h"
#include "engine/fleet_record.h"
#include "engine/host_scope.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"

namespace lastgood {
namespace {

constexpr Millis kWatch{25};
constexpr Millis kTrafficPoll{1000};

// The hosts the deployment brought the version to production on: those whose switch
// succeeded, in the order they switched, then those that ran nothing of the app and started
// it straight in production; a failed host is not among them.
std::vector<std::string> SwitchedHosts(const Deployment& d) {
  const auto failed = FailedHosts(d);
  std::vector<std::string> switched, started;
  for (const auto& op : d.operations) {
    auto s = StepFromJson(op.spec);
    if (!s.ok() || op.host.empty() || failed.count(op.host)) continue;
    if (s->op == Step::Op::kSwitch && op.state == OperationState::kSucceeded)
      switched.push_back(op.host);
    const bool into_production = s->slot.empty() || s->slot == d.slot;
    if (s->op == Step::Op::kStart && into_production &&
        std::find(started.begin(), started.end(), op.host) == started.end())
      started.push_back(op.host);
  }
  switched.insert(switched.end(), started.begin(), started.end());
  return switched;
}

// The production traffic of the version on the switched hosts since the bake began (the
// last `a.window` of it), against the analysis' limits alone. A failure's words, or "".
std::string TrafficBroken(StepContext& ctx, const Step& step, const Analysis& a, Millis elapsed) {
  const EngineDeps& deps = ctx.deps();
  if (!deps.routes) return "";
  Millis ask = std::min(a.window, Millis((elapsed.count() / 1000 + 1) * 1000));
  auto stats = deps.routes->Stats(ask);
  if (!stats.ok()) return "";  // a host that cannot answer is watched through its instances
  Analysis limits = a;
  limits.maxErrorRateIncrease.reset();
  Measured now = Measure(*stats, ctx.deployment().app, ctx.deployment().slot, step.version, false);
  Judgement j = Judge(limits, now, Measured{}, false);
  if (j.kind != Judgement::Kind::kFail) return "";
  return "v" + std::to_string(step.version) + "'s production traffic on the switched hosts, " +
         "added up, broke strategy.bluegreen.analysis' limits during the bake: " +
         j.detail.substr(0, j.detail.find(" — ")) + " (" + std::to_string(now.requests) +
         " requests, " + std::to_string(now.errors) + " errors)";
}

}  // namespace

StepResult RunFleetBake(StepContext& ctx, const Step& step) {
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  const bool after_switch = step.count == kBakeSwitchedHosts;
  const std::vector<std::string> hosts =
      after_switch ? SwitchedHosts(d) : WorkingHosts(d, step.wave);
  if (hosts.empty()) return StepResult::Ok("no host of this wave is left to bake");
  const Analysis* watch =
      after_switch && m.strategy.blueGreen.analysis ? &*m.strategy.blueGreen.analysis : nullptr;
  const auto began = ctx.deps().clock->Steady();
  auto next_look = began + kTrafficPoll;
  std::string broken;
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
  auto look = [&] {
    const auto now = ctx.deps().clock->Steady();
    next_look = now + kTrafficPoll;
    broken = TrafficBroken(ctx, step, *watch, std::chrono::duration_cast<Millis>(now - began));
  };
  while (done.load() < hosts.size()) {
    if (watch && broken.empty() && ctx.deps().clock->Steady() >= next_look) look();
    // Broken limits end the hosts' watchers as an interruption would; the bake fails below.
    interrupted = broken.empty() ? ctx.Interrupted() : StepResult::Kind::kCanceled;
    ctx.deps().clock->SleepFor(kWatch);
  }
  for (auto& t : watchers) t.join();
  if (watch && broken.empty() && interrupted.load() == StepResult::Kind::kOk) look();
  if (!broken.empty()) return StepResult::Failed(broken);
  std::string failures;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (results[i].kind == StepResult::Kind::kOk) continue;
    if (results[i].kind != StepResult::Kind::kFailed) return {results[i].kind, ""};
    failures += (failures.empty() ? "" : "; ") + hosts[i] + ": " + results[i].detail;
  }
  if (!failures.empty()) return StepResult::Failed(failures);
  return StepResult::Ok(std::to_string(hosts.size()) + " hosts healthy for " +
                        FormatDuration(m.bake) +
                        (watch ? ", their production traffic within the analysis' limits" : ""));
}

}  // namespace lastgood
