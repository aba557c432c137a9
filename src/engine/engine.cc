#include "engine/engine.h"

#include "engine/commit_watch.h"
#include "engine/drainer.h"
#include "engine/executor.h"
#include "engine/host_scope.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/steps/steps.h"
#include "engine/warm_switch.h"
#include "notify/notifier.h"

namespace lastgood {

namespace {

// How long a rollback waits for the deployment it preempts to stop.
constexpr Millis kPreemptTimeout{60'000};
// How long a new deployment waits for a worker whose deployment has ended to finish.
constexpr Millis kWorkerEndTimeout{5'000};

bool HasRunningDeployment(Store& store, const std::string& app) {
  auto running = store.RunningDeployments();
  if (!running.ok()) return true;  // unknown: as if it did
  for (const auto& d : *running) {
    if (d.app == app) return true;
  }
  return false;
}

}  // namespace

Engine::Engine(EngineDeps deps)
    : deps_(std::move(deps)),
      commits_(std::make_unique<CommitWatch>(deps_.store)),
      drainer_(std::make_unique<Drainer>(deps_.clock)),
      notifier_(std::make_unique<Notifier>()),
      host_routes_(std::make_unique<FleetRoutes>(commits_.get(), deps_.clock)) {
  deps_.store = commits_.get();
  deps_.hostRoutes = host_routes_.get();
  deps_.commits = commits_.get();
  deps_.drainer = drainer_.get();
  deps_.notifier = notifier_.get();
}

Engine::~Engine() { Shutdown(); }

void Engine::Shutdown() {
  stopping_ = true;
  std::map<std::string, std::unique_ptr<Worker>> workers;
  {
    MutexLock lock(&mu_);
    workers.swap(workers_);
  }
  for (auto& [app, w] : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  // Instances already out of the table finish stopping: none is left half-retired.
  drainer_->WaitAll();
  changed_.SignalAll();
}

std::vector<InstanceRecord> Engine::WarmSwitchNow(Deployment& d) {
  if (d.operations.empty()) return {};
  auto first = StepFromJson(d.operations[0].spec);
  if (!first.ok() || first->op != Step::Op::kTakeWarm) return {};
  auto m = LoadManifest(deps_, d.app, d.version);
  if (!m.ok()) return {};
  auto changes = WarmSwitch(deps_, d.app, d.slot, first->version, first->count, KeepWarm(d, *m),
                            WarmUntil(deps_, *m));
  if (!changes.ok() || !*changes || (*changes)->empty()) return {};  // the step will see
  d.operations[0].state = OperationState::kRunning;
  d.operations[0].startedAt = d.startedAt;
  return std::move(**changes);
}

void Engine::RunWorkerBody(Worker* w, const std::string& app, const std::string& name,
                           const std::string& note) {
  Executor exec(deps_, &w->cancel, &stopping_, [this] { Notify(); });
  exec.Run(app, name, note);
  {
    MutexLock lock(&mu_);
    w->done = true;
    ++change_seq_;
  }
  changed_.SignalAll();
}

void Engine::Notify() {
  {
    MutexLock lock(&mu_);
    ++change_seq_;
  }
  changed_.SignalAll();
}

uint64_t Engine::WaitForChange(uint64_t seen, Millis timeout) {
  MutexLock lock(&mu_);
  changed_.WaitFor(&mu_, timeout, [&] { return change_seq_.load() > seen || stopping_.load(); });
  return change_seq_.load();
}

Result<Outcome> Engine::StartDeployment(Prepared p, bool preempt) {
  Deployment& d = p.deployment;
  MutexLock lock(&mu_);
  if (stopping_) return Error::Unavailable("the controller is shutting down; try again");
  auto& slot = workers_[d.app];
  if (slot && !slot->done && !preempt && !HasRunningDeployment(*deps_.store, d.app)) {
    // Its deployments have all ended on record: the worker is only announcing the end.
    Worker* w = slot.get();
    changed_.WaitFor(&mu_, kWorkerEndTimeout, [&] { return w->done.load(); });
  }
  if (slot && !slot->done) {
    if (!preempt) {
      return Error::Conflict("deployment " + slot->deployment + " of " + d.app +
                             " is running; wait for it to end, or roll back to stop it");
    }
    LG_RETURN_IF_ERROR(
        deps_.store->SetIntent(d.app, slot->deployment, Intent{IntentKind::kCancel, d.actor}));
    slot->cancel = true;
    // Unpacking the release it replaces must not hold the rollback up (issue 11 A6).
    deps_.artifacts->CancelReleases(d.app);
    Worker* w = slot.get();
    if (!changed_.WaitFor(&mu_, kPreemptTimeout, [&] { return w->done.load(); })) {
      return Error::Unavailable("deployment " + w->deployment +
                                " did not stop within 60s; try again");
    }
  }
  if (slot && slot->thread.joinable()) slot->thread.join();

  auto plan = p.operations ? Result<PlannedOperations>(*p.operations)
                           : PlanFor(deps_, d.app, d.slot, d.version, d.kind);
  if (!plan.ok()) return plan.error();
  d.strategy = plan->strategy;
  d.operations = plan->operations;
  d.startedAt = deps_.clock->NowMillis();
  d.state = DeploymentState::kRunning;
  // A return to warm instances: the switch is committed with the record, in one transaction,
  // and the table pushed before anything else; the worker does the rest (takeWarm step).
  const auto start = deps_.clock->Steady();
  std::vector<InstanceRecord> switch_now = WarmSwitchNow(d);
  auto created = switch_now.empty() ? deps_.store->CreateDeployment(d)
                                    : deps_.store->CreateDeploymentWith(d, switch_now);
  if (!created.ok()) return created.error();
  std::string note;
  if (!switch_now.empty()) {
    const auto stored = deps_.clock->Steady();
    // A router that does not take it now gets it from the takeWarm step, or from the store
    // at the controller's next start.
    Status pushed = deps_.routes ? deps_.routes->Publish() : Status::Ok();
    const auto routed = deps_.clock->Steady();
    if (pushed.ok()) {
      const auto received = p.received == decltype(p.received){} ? start : p.received;
      note = "in force " + FormatMillis(routed - received) +
             " after the rollback reached the controller (checks and plan " +
             FormatMillis(start - received) + ", store " + FormatMillis(stored - start) +
             ", router " + FormatMillis(routed - stored) + ")";
    }
  }

  Outcome o = std::move(p.outcome);
  o.deployment = created->name;
  o.strategy = plan->strategy;
  o.plan.clear();  // the plan as it is now, which a preempting rollback may have changed
  for (const auto& op : plan->operations) o.plan.push_back(PlanLine(op));

  slot = std::make_unique<Worker>();
  slot->deployment = created->name;
  Worker* w = slot.get();
  w->thread = std::thread(
      [this, w, app = d.app, name = created->name, note] { RunWorkerBody(w, app, name, note); });
  lock.Unlock();
  Notify();
  return o;
}

}  // namespace lastgood
