// Reconcile (docs/fleets.md): a fleet host that could not be reached keeps serving what it
// served, and misses what was deployed meanwhile. Once it answers again, and no deployment of
// the app runs, a deployment of kind reconcile (trigger auto) brings that host alone to the
// version production runs: one wave of one host, no hook, no other host touched, and no
// verdict changed by its end (history/rules.cc). A host is reconciled once per return: a host
// whose own step fails is not retried in a loop, it waits for the next deployment.
#include "engine/engine.h"
#include "engine/fleet_plan.h"
#include "engine/host_scope.h"
#include "engine/release.h"
#include "engine/slot_now.h"
#include "history/reasons.h"

namespace lastgood {

void Engine::NoteReturnedHosts() {
  if (!deps_.hosts) return;
  const std::vector<HostInfo> hosts = deps_.hosts->Snapshot();
  auto apps = deps_.store->ListApps();
  if (!apps.ok()) return;
  MutexLock lock(&hosts_mu_);
  if (!hosts_seen_) {
    // The controller has just started: a host may have been cut off before it stopped.
    for (const auto& h : hosts) unreachable_.insert(h.name);
    hosts_seen_ = true;
  }
  for (const auto& h : hosts) {
    if (!h.reachable) {
      unreachable_.insert(h.name);
    } else if (unreachable_.erase(h.name) > 0) {
      for (const auto& app : *apps) returned_.insert({app.name, h.name});
    }
  }
}

void Engine::ReconcileReturned(const std::string& app) {
  std::vector<std::string> hosts;
  {
    MutexLock lock(&hosts_mu_);
    for (auto it = returned_.begin(); it != returned_.end();) {
      if (it->first != app) {
        ++it;
        continue;
      }
      hosts.push_back(it->second);
      it = returned_.erase(it);
    }
  }
  if (hosts.empty()) return;
  auto now = ReadSlot(*deps_.store, app, kProductionSlot);
  if (!now.ok() || now->running == 0 || now->active) return;
  auto m = LoadManifest(deps_, app, now->running);
  if (!m.ok() || !m->fleet.enabled()) return;
  for (size_t k = 0; k < hosts.size(); ++k) {
    const std::string& host = hosts[k];
    std::string problem;
    if (!HostReachable(deps_, host, &problem)) {
      MutexLock lock(&hosts_mu_);
      unreachable_.insert(host);  // gone again: reconciled when it is back
      continue;
    }
    auto plan = PlanFleetFor(deps_, app, kProductionSlot, now->running, *m,
                             DeploymentKind::kReconcile, host);
    if (!plan.ok()) continue;  // e.g. a host no longer registered: nothing to bring back
    bool acts = false;
    for (const auto& op : plan->operations) acts = acts || !op.host.empty();
    if (!acts) continue;  // it runs production's version already
    Prepared p;
    Deployment& d = p.deployment;
    d.app = app;
    d.version = now->running;
    d.fromVersion = now->running;
    d.slot = kProductionSlot;
    d.kind = DeploymentKind::kReconcile;
    d.trigger = Trigger::kAuto;
    d.actor = "lastgood";
    d.rollbackOnError = RollbackOnError::None();
    d.reason = std::string(kReasonReconcileHost) + " " + host +
               " was unreachable and is back; production runs v" + std::to_string(now->running);
    p.operations = *plan;
    p.outcome.app = app;
    p.outcome.slot = kProductionSlot;
    p.outcome.kind = KindName(DeploymentKind::kReconcile);
    p.outcome.version = now->running;
    p.outcome.fromVersion = now->running;
    auto started = StartDeployment(std::move(p), /*preempt=*/false);
    // One deployment of an app at a time: the other hosts wait for the next call.
    MutexLock lock(&hosts_mu_);
    if (!started.ok()) returned_.insert({app, host});
    for (size_t rest = k + 1; rest < hosts.size(); ++rest) returned_.insert({app, hosts[rest]});
    return;
  }
}

}  // namespace lastgood
