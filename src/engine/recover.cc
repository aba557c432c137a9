// Recovery and housekeeping — where a restarted controller picks up: instances re-adopted
// (or forgotten when they died), processes no record knows stopped, settled slots given
// back their instances, and every deployment left Running resumed at its current step.
// Housekeep is the periodic upkeep: warm instances past keepPrevious, history retention.
#include <set>

#include "engine/confine.h"
#include "engine/engine.h"
#include "engine/host_scope.h"
#include "engine/release.h"
#include "engine/secret_env.h"
#include "engine/slot_instances.h"
#include "store/retention.h"

namespace lastgood {
namespace {

// A fleet host's instance on record after a restart: its node keeps it (and re-adopts it
// after its own restarts), so the record stays unless the node says it is gone. A host that
// cannot be reached now keeps its records: it is reconciled when it is back. `*unsure` is set
// when the node gave no clear answer about the instance (its host's strays are then left).
Status RecoverOnHost(const EngineDeps& deps, const InstanceRecord& rec, bool* unsure) {
  auto scoped = ForHost(deps, rec.host);
  if (!scoped.ok()) return *unsure = true, Status::Ok();
  InstanceSpec spec;
  spec.id = rec.id;
  auto adopted = scoped->target->Adopt(spec, {rec.id, rec.pid, rec.startTime, rec.port});
  if (!adopted.ok()) {
    if (adopted.error().code == ErrorCode::kNotFound) return deps.store->DeleteInstance(rec.id);
    *unsure = true;
    return Status::Ok();
  }
  if (rec.state == InstanceState::kDraining && scoped->target->Stop(rec.id).ok())
    return deps.store->DeleteInstance(rec.id);
  return Status::Ok();
}

}  // namespace

void Engine::SweepReturnedHosts() {
  if (!deps_.hosts) return;
  std::vector<std::string> due;
  {
    MutexLock lock(&hosts_mu_);
    due.assign(unswept_.begin(), unswept_.end());
  }
  if (due.empty()) return;
  {
    // While a deployment runs, its records change under the sweep: a later upkeep sweeps.
    // One that starts during the sweep is safe from it: a host's target knows an instance
    // from the moment it asks for its start (targets/remote/node_client.cc), and the sweep
    // stops only what its target knows nothing of. The lock is not held over the hosts' calls.
    MutexLock lock(&mu_);
    for (const auto& [app, w] : workers_) {
      if (w && !w->done) return;
    }
  }
  auto all = deps_.store->AllInstances();
  if (!all.ok()) return;
  std::vector<std::string> swept;
  for (const auto& host : due) {
    if (!HostReachable(deps_, host, nullptr)) continue;
    bool unsure = false;
    for (const auto& rec : *all) {
      if (rec.host == host && !RecoverOnHost(deps_, rec, &unsure).ok()) unsure = true;
    }
    if (unsure) continue;  // tried again at the next upkeep
    auto scoped = ForHost(deps_, host);
    if (!scoped.ok()) continue;
    scoped->target->StopStrays();
    swept.push_back(host);
  }
  MutexLock lock(&hosts_mu_);
  for (const auto& host : swept) unswept_.erase(host);
}

void Engine::Housekeep() {
  NoteReturnedHosts();
  SweepReturnedHosts();
  auto apps = deps_.store->ListApps();
  if (!apps.ok()) return;
  for (const auto& app : *apps) {
    MutexLock lock(&mu_);
    auto it = workers_.find(app.name);
    if (it != workers_.end() && it->second && !it->second->done) continue;
    lock.Unlock();
    auto slots = deps_.store->ListSlots(app.name);
    if (!slots.ok()) continue;
    // Each host's warm instances, this machine's and every fleet host's that has some.
    std::set<std::string> hosts = {""};
    if (auto instances = deps_.store->ListInstances(app.name); instances.ok()) {
      for (const auto& i : *instances) {
        if (i.state == InstanceState::kWarm) hosts.insert(i.host);
      }
    }
    for (const auto& host : hosts) {
      auto scoped = host.empty() ? Result<EngineDeps>(deps_) : ForHost(deps_, host);
      if (!scoped.ok()) continue;  // an unreachable host's are stopped once it is back
      for (const auto& s : *slots) {
        SlotInstances slot(*scoped, app.name, s.slot, [] { return StepResult::Kind::kOk; });
        (void)slot.StopStaleWarm(-1);  // what fails now is retried at the next call
      }
    }
    ReconcileReturned(app.name);
    // Retention (history.keep, issue 5): the policy of the version production runs.
    for (const auto& s : *slots) {
      if (s.slot != kProductionSlot || s.version == 0) continue;
      if (auto m = LoadManifest(deps_, app.name, s.version); m.ok())
        (void)ApplyRetention(*deps_.store, app.name, m->history.keep);
    }
  }
}

Status Engine::Recover() {
  // Re-adopt every instance an earlier controller started; one that died meanwhile is
  // forgotten here, and a step re-run (or the finish step) starts what is missing.
  auto all = deps_.store->AllInstances();
  if (!all.ok()) return all.error();
  std::set<std::string> unsure_hosts;  // a record there could not be settled
  for (const auto& rec : *all) {
    if (!rec.host.empty()) {
      bool unsure = false;
      LG_RETURN_IF_ERROR(RecoverOnHost(deps_, rec, &unsure));
      if (unsure) unsure_hosts.insert(rec.host);
      continue;
    }
    auto m = LoadManifest(deps_, rec.app, rec.version);
    auto release = ReleaseDirFor(deps_, rec.app, rec.version);
    if (!m.ok() || !release.ok()) {
      LG_RETURN_IF_ERROR(deps_.store->DeleteInstance(rec.id));
      continue;
    }
    auto slots = deps_.store->ListSlots(rec.app);
    auto env = EnvFor(*m, rec.settings, slots.ok() ? *slots : std::vector<SlotRecord>{});
    // The spec is kept for restarts after a crash. A secret that can no longer be read (removed
    // meanwhile) does not stop the adoption of what runs; a restart then starts without it.
    auto resolved = ResolveEnv(deps_, rec.app, env);
    InstanceSpec spec = SpecFor(*m, rec.id, *release, deps_.logDir + "/" + rec.app, rec.port,
                                resolved.ok() ? *resolved : WithoutSecrets(env));
    // Its restarts must be confined as its start was: with no sandbox to give them (its uid
    // or state folder cannot be made now) it is not adopted, and so it is stopped below.
    auto box = SandboxFor(deps_, *m, *release, rec.id);
    if (!box.ok()) {
      (void)deps_.store->DeleteInstance(rec.id);
      continue;
    }
    spec.sandbox = *box;
    auto adopted = deps_.target->Adopt(spec, {rec.id, rec.pid, rec.startTime, rec.port});
    if (!adopted.ok()) {
      LG_RETURN_IF_ERROR(deps_.store->DeleteInstance(rec.id));
    } else if (rec.state == InstanceState::kDraining) {
      // It was out of the table and on its way out when the controller stopped.
      if (deps_.target->Stop(rec.id).ok()) LG_RETURN_IF_ERROR(deps_.store->DeleteInstance(rec.id));
    }
  }
  // An instance process that no record knows (a crash between its start and its record, or
  // a store restored from a backup) is stopped: nothing runs off the record.
  deps_.target->StopStrays();
  // The same on every fleet host that answers (a controller killed between asking a node to
  // start an instance and recording it), unless one of its records could not be settled: that
  // host's sweep waits until it answers again (SweepReturnedHosts).
  if (deps_.hosts) {
    for (const auto& h : deps_.hosts->Snapshot()) {
      if (h.reachable && !unsure_hosts.count(h.name)) {
        if (auto scoped = ForHost(deps_, h.name); scoped.ok()) {
          scoped->target->StopStrays();
          continue;
        }
      }
      MutexLock lock(&hosts_mu_);
      unswept_.insert(h.name);
    }
  }
  // Settled slots whose instances died while no controller watched get them back.
  auto apps = deps_.store->ListApps();
  if (!apps.ok()) return apps.error();
  auto running = deps_.store->RunningDeployments();
  if (!running.ok()) return running.error();
  for (const auto& app : *apps) {
    bool busy = false;
    for (auto& d : *running) busy = busy || d.app == app.name;
    if (busy) continue;
    auto slots = deps_.store->ListSlots(app.name);
    if (!slots.ok()) continue;
    for (const auto& s : *slots) {
      if (s.version == 0) continue;
      auto m = LoadManifest(deps_, app.name, s.version);
      // A fleet's hosts keep their instances up by themselves (their nodes restart what
      // dies); one that missed a deployment is reconciled, not started here.
      if (!m.ok() || m->fleet.enabled()) continue;
      auto release = ReleaseDirFor(deps_, app.name, s.version);
      if (!release.ok()) continue;
      SlotInstances slot(deps_, app.name, s.slot, [] { return StepResult::Kind::kOk; });
      // An instance that cannot start now is started by the slot's next deployment; the
      // controller comes up regardless, so that a rollback can be asked for.
      (void)slot.EnsureReady(s.version, *m, *release, m->replicas);
    }
  }
  // Deployments left Running by a crash re-run their current step and go on.
  for (auto& d : *running) {
    MutexLock lock(&mu_);
    auto& w = workers_[d.app];
    w = std::make_unique<Worker>();
    w->deployment = d.name;
    Worker* wp = w.get();
    wp->thread =
        std::thread([this, wp, app = d.app, name = d.name] { RunWorkerBody(wp, app, name, ""); });
  }
  return Status::Ok();
}

}  // namespace lastgood
