#include "engine/engine.h"

#include "engine/commit_watch.h"
#include "engine/drainer.h"
#include "engine/executor.h"
#include "engine/release.h"
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
      notifier_(std::make_unique<Notifier>()) {
  deps_.store = commits_.get();
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

void Engine::RunWorkerBody(Worker* w, const std::string& app, const std::string& name) {
  Executor exec(deps_, &w->cancel, &stopping_, [this] { Notify(); });
  exec.Run(app, name);
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
  auto created = deps_.store->CreateDeployment(d);
  if (!created.ok()) return created.error();

  Outcome o = std::move(p.outcome);
  o.deployment = created->name;
  o.strategy = plan->strategy;
  o.plan.clear();  // the plan as it is now, which a preempting rollback may have changed
  for (const auto& op : plan->operations) o.plan.push_back(op.step);

  slot = std::make_unique<Worker>();
  slot->deployment = created->name;
  Worker* w = slot.get();
  w->thread =
      std::thread([this, w, app = d.app, name = created->name] { RunWorkerBody(w, app, name); });
  lock.Unlock();
  Notify();
  return o;
}

}  // namespace lastgood
