#include "engine/engine.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/diff.h"
#include "engine/drainer.h"
#include "engine/executor.h"
#include "engine/release.h"
#include "engine/slot_instances.h"
#include "engine/slot_now.h"
#include "history/reasons.h"
#include "history/rules.h"
#include "manifest/canonical.h"
#include "manifest/parser.h"
#include "notify/notifier.h"

namespace lastgood {

// How long a rollback waits for the deployment it preempts to stop.
constexpr Millis kPreemptTimeout{60'000};

Engine::Engine(EngineDeps deps)
    : deps_(std::move(deps)),
      drainer_(std::make_unique<Drainer>()),
      notifier_(std::make_unique<Notifier>()) {
  deps_.drainer = drainer_.get();
  deps_.notifier = notifier_.get();
}

Engine::~Engine() { Shutdown(); }

void Engine::Shutdown() {
  stopping_ = true;
  std::map<std::string, std::unique_ptr<Worker>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [app, w] : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  // Instances already out of the table finish stopping: none is left half-retired.
  drainer_->WaitAll();
  changed_.notify_all();
}

void Engine::RunWorkerBody(Worker* w, const std::string& app, const std::string& name) {
  Executor exec(deps_, &w->cancel, &stopping_, [this] { Notify(); });
  exec.Run(app, name);
  {
    std::lock_guard lock(mu_);
    w->done = true;
    ++change_seq_;
  }
  changed_.notify_all();
}

void Engine::Notify() {
  {
    std::lock_guard lock(mu_);
    ++change_seq_;
  }
  changed_.notify_all();
}

uint64_t Engine::WaitForChange(uint64_t seen, Millis timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return change_seq_.load() > seen || stopping_.load(); });
  return change_seq_.load();
}

Result<Outcome> Engine::Apply(const ApplyRequest& req) {
  auto parsed = ParseManifest(req.manifest, req.params);
  if (!parsed.ok()) return parsed.error();
  const Manifest& m = parsed->manifest;
  LG_RETURN_IF_ERROR(ValidateName(req.slot, "slot name", "--slot"));
  if (!req.name.empty()) LG_RETURN_IF_ERROR(ValidateName(req.name, "deployment name", "--name"));
  std::string on_error = req.rollbackOnError.value_or(m.rollback.onError);
  if (on_error != "lastSuccessful" && on_error != "none") {
    LG_RETURN_IF_ERROR(ValidateName(on_error, "deployment name", "--rollback-on-error"));
    auto named = deps_.store->GetDeployment(m.app, on_error);
    if (!named.ok() || named->state != DeploymentState::kSucceeded) {
      return Error::InvalidInput("--rollback-on-error names deployment '" + on_error +
                                     "', which is not a Succeeded deployment of " + m.app +
                                     "; `lastgood history " + m.app + "` lists them",
                                 "--rollback-on-error");
    }
  }

  std::string digest;
  if (!m.run.artifact.empty()) {
    std::filesystem::path p(m.run.artifact);
    if (p.is_relative() && req.remote) {
      return Error::InvalidInput(
          "'" + m.run.artifact +
              "' is relative to the manifest's folder, which is on your machine: the "
              "controller cannot read it over TCP. Copy the artifact to the controller's "
              "host and name it by its absolute path there, or apply on that host",
          "run.artifact");
    }
    if (p.is_relative()) p = std::filesystem::path(req.manifestDir) / p;
    auto put = deps_.artifacts->Put(p.lexically_normal().string());
    if (!put.ok()) {
      std::string what = "cannot store the artifact " + p.string() + ": " + put.error().message;
      if (put.error().code == ErrorCode::kInvalidInput) {
        return Error::InvalidInput(std::move(what), "run.artifact");
      }
      // The file was fine; the controller's side failed (a full disk, a read-only home): the
      // same apply may work once that is fixed, so it is a resource unavailable, not input.
      Error e = Error::Unavailable(std::move(what) +
                                   " (free space in the lastgood home, then apply again)");
      e.field = "run.artifact";
      return e;
    }
    digest = *put;
  }
  Version v;
  v.app = m.app;
  v.manifest = ToCanonicalYaml(m);
  v.digest = digest;
  v.contentHash = Sha256String(v.manifest + "\n" + digest);
  v.params = nlohmann::json(parsed->params).dump();
  v.createdAt = deps_.clock->NowMillis();

  std::unique_lock lock(mu_);
  LG_RETURN_IF_ERROR(deps_.store->CreateApp(m.app, v.createdAt));
  auto now = ReadSlot(*deps_.store, m.app, req.slot);
  if (!now.ok()) return now.error();
  if (now->active && !req.whatIf) {
    return Error::Conflict("deployment " + now->active->name + " of " + m.app + " is running (v" +
                           std::to_string(now->active->version) +
                           "); wait for it to end, or `lastgood rollback " + m.app +
                           "` to stop it");
  }
  // A taken name is refused before anything is stored (the store refuses it too, later).
  if (!req.name.empty() && !req.whatIf && deps_.store->GetDeployment(m.app, req.name).ok()) {
    return Error::Conflict("the deployment name " + req.name + " of " + m.app +
                           " is taken; choose another --name");
  }
  std::string running_manifest;
  if (now->running > 0) {
    auto rv = deps_.store->GetVersion(m.app, now->running);
    if (!rv.ok()) return rv.error();
    running_manifest = rv->manifest;
    if (rv->contentHash == v.contentHash) {
      Outcome o;
      o.app = m.app;
      o.noop = true;
      o.version = now->running;
      o.slot = req.slot;
      o.message = m.app + " v" + std::to_string(now->running) + " already runs in " + req.slot +
                  " with this content; nothing to do";
      return o;
    }
  }
  auto versions = deps_.store->ListVersions(m.app);
  if (!versions.ok()) return versions.error();

  Outcome o;
  o.app = m.app;
  o.slot = req.slot;
  o.kind = "deploy";
  o.strategy = StrategyName(m.strategy.type);
  o.fromVersion = now->running;
  o.diff = UnifiedDiff(running_manifest, v.manifest, VersionLabel(m.app, now->running),
                       m.app + " (new version)");
  if (req.whatIf) {
    o.whatIf = true;
    o.version = NextVersionNumber(*versions);
    auto in = PlanInputFor(deps_, m.app, req.slot, o.version, m, DeploymentKind::kDeploy);
    if (!in.ok()) return in.error();
    if (req.slot != kProductionSlot) in->strategy.type = Strategy::Type::kRolling;  // as PlanFor
    for (const Step& s : PlanDeployment(*in)) o.plan.push_back(Describe(s));
    o.message = "would create " + m.app + " v" + std::to_string(o.version) + " and deploy it to " +
                req.slot;
    return o;
  }
  auto number = deps_.store->AddVersion(v);
  if (!number.ok()) return number.error();
  o.newVersion = true;
  o.version = *number;
  o.diff = UnifiedDiff(running_manifest, v.manifest, VersionLabel(m.app, now->running),
                       VersionLabel(m.app, o.version));

  Prepared p;
  p.deployment.app = m.app;
  p.deployment.name = req.name;
  p.deployment.version = o.version;
  p.deployment.slot = req.slot;
  p.deployment.kind = DeploymentKind::kDeploy;
  p.deployment.actor = req.actor;
  p.deployment.rollbackOnError = on_error;
  p.deployment.fromVersion = now->running;
  p.outcome = o;
  lock.unlock();
  return StartDeployment(std::move(p), false);
}

Result<Outcome> Engine::StartDeployment(Prepared p, bool preempt) {
  Deployment& d = p.deployment;
  std::unique_lock lock(mu_);
  if (stopping_) return Error::Unavailable("the controller is shutting down; try again");
  auto& slot = workers_[d.app];
  if (slot && !slot->done) {
    if (!preempt) {
      return Error::Conflict("deployment " + slot->deployment + " of " + d.app +
                             " is running; wait for it to end, or roll back to stop it");
    }
    (void)deps_.store->SetIntent(d.app, slot->deployment, "cancel");
    slot->cancel = true;
    Worker* w = slot.get();
    if (!changed_.wait_for(lock, kPreemptTimeout, [&] { return w->done.load(); })) {
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
  lock.unlock();
  Notify();
  return o;
}

}  // namespace lastgood
