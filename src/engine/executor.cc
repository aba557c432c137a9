#include "engine/executor.h"

#include "engine/commit_watch.h"
#include "engine/fleet_record.h"
#include "engine/host_scope.h"
#include "engine/secret_env.h"
#include "engine/steps/steps.h"
#include "history/reasons.h"
#include "manifest/parser.h"

namespace lastgood {

// The executor as its steps see it (engine/steps/step_context.h).
class Executor::Context : public StepContext {
 public:
  Context(Executor& exec, Deployment& d, const Manifest& m, const EngineDeps& deps)
      : exec_(exec), d_(d), m_(m), deps_(deps) {}
  const EngineDeps& deps() const override { return deps_; }
  Deployment& deployment() override { return d_; }
  const Manifest& manifest() const override { return m_; }
  StepResult::Kind Interrupted() override { return exec_.Interrupted(d_); }
  bool Sleep(Millis d) override { return exec_.Sleep(d_, d); }
  void Progress(const std::string& detail) override { exec_.Progress(d_, detail); }
  void Commit() override { (void)exec_.Commit(d_); }  // watched: see StoreFailure()
  lastgood::Status CommitWith(const std::vector<InstanceRecord>& instances) override {
    return exec_.Commit(d_, instances);
  }
  std::optional<IntentKind> Intent(bool fresh) override {
    if (fresh) exec_.intent_read_at_ = 0;
    return exec_.ReadIntent(d_);
  }
  void ClearIntent() override {
    (void)exec_.deps_.store->ClearIntent(d_.app, d_.name);  // watched
    exec_.intent_.reset();
  }

 private:
  Executor& exec_;
  Deployment& d_;
  const Manifest& m_;
  const EngineDeps& deps_;
};

Executor::Executor(const EngineDeps& deps, std::atomic<bool>* cancel, std::atomic<bool>* stopping,
                   std::function<void()> notify)
    : deps_(deps), cancel_(cancel), stopping_(stopping), notify_(std::move(notify)) {}

lastgood::Status Executor::Commit(const Deployment& d,
                                  const std::vector<InstanceRecord>& instances) {
  auto s = instances.empty() ? deps_.store->UpdateDeployment(d)
                             : deps_.store->UpdateDeploymentWith(d, instances);
  notify_();
  return s;
}

std::optional<Error> Executor::StoreFailure() const {
  return deps_.commits ? deps_.commits->Failure() : std::nullopt;
}

void Executor::Run(const std::string& app, const std::string& first, const std::string& note) {
  note_ = note;
  // Every commit this thread makes for the deployment is watched: a failed one ends it.
  if (deps_.commits) deps_.commits->Watch();
  std::string name = first;
  while (!name.empty()) {
    auto got = deps_.store->GetDeployment(app, name);
    if (!got.ok()) break;
    Deployment d = std::move(*got);
    if (IsFinal(d.state)) break;
    // Intents belong to one deployment: the rollback that follows an abort is not aborted.
    intent_.reset();
    intent_read_at_ = 0;
    aborted_by_.clear();
    if (deps_.commits) deps_.commits->Watch();
    if (d.cursor == 0 && !d.operations.empty() &&
        d.operations[0].state == OperationState::kPending) {
      Announce(d);  // "started", once: a resumed deployment has begun already
    }
    std::string reason;
    Ending ending = RunPlan(d, reason);
    if (ending == Ending::kStopped) break;  // left Running; Recover() resumes it
    name = Finish(d, ending, reason);
  }
  if (deps_.commits) deps_.commits->Unwatch();
}

Executor::Ending Executor::EndAt(Deployment& d, Ending ending, OperationState state,
                                 const std::string& detail) {
  Operation& op = d.operations[d.cursor];
  op.state = state;
  op.finishedAt = deps_.clock->NowMillis();
  op.detail = detail;
  for (size_t i = d.cursor + 1; i < d.operations.size(); ++i)
    d.operations[i].state = OperationState::kSkipped;
  return ending;
}

Executor::Ending Executor::RunPlan(Deployment& d, std::string& reason) {
  auto version = deps_.store->GetVersion(d.app, d.version);
  if (!version.ok()) {
    reason = version.error().message;
    return Ending::kFailed;
  }
  auto parsed = ParseManifest(version->manifest, {});
  if (!parsed.ok()) {
    reason = "the stored manifest of v" + std::to_string(d.version) + " " +
             kReasonManifestNoLongerParses + ": " + parsed.error().ToString();
    return Ending::kFailed;
  }
  const Manifest& m = parsed->manifest;
  const int steps = static_cast<int>(d.operations.size());
  // A step already Running when this starts was interrupted by a restart; it runs again
  // (every step is idempotent) and its record says so.
  bool resumed =
      d.cursor < steps && d.operations[d.cursor].state == OperationState::kRunning && note_.empty();
  std::string note = std::exchange(note_, "");  // only for this deployment's first step
  // A commit that failed (here or in the step) stops the plan where it is: what the record
  // does not hold must not be built upon.
  auto store_failed = [&]() -> std::optional<Ending> {
    auto failure = StoreFailure();
    if (!failure) return std::nullopt;
    reason = std::string(kReasonStoreFailed) + ": " + failure->message;
    return EndAt(d, Ending::kStoreFailed, OperationState::kFailed, reason);
  };
  while (d.cursor < steps) {
    Operation& op = d.operations[d.cursor];
    auto step = StepFromJson(op.spec);
    if (!step.ok()) {
      reason = step.error().message;
      return Ending::kFailed;
    }
    if (stopping_->load()) return Ending::kStopped;
    if (!WaitWhilePaused(d, *step) && stopping_->load()) return Ending::kStopped;
    if (auto e = store_failed()) return *e;
    if (!aborted_by_.empty()) {
      reason = std::string(kReasonAbortedBy) + " " + aborted_by_;
      return EndAt(d, Ending::kAborted, OperationState::kCanceled, reason);
    }
    if (cancel_->load()) {
      reason = kReasonCanceledByRollback;
      return EndAt(d, Ending::kCanceled, OperationState::kCanceled, kReasonCanceledByRollback);
    }
    if (!op.host.empty()) {
      // A block of fleet host steps: run in parallel lanes, one per host.
      Ending ending = Ending::kSucceeded;
      if (!RunLanes(d, m, reason, &ending)) return ending;
      resumed = false;
      if (auto e = store_failed()) return *e;
      continue;
    }
    if (op.state != OperationState::kRunning) {
      op.state = OperationState::kRunning;
      op.startedAt = deps_.clock->NowMillis();
      (void)Commit(d);  // a failure is the watch's: store_failed() below
      if (auto e = store_failed()) return *e;
    }
    StepResult r = RunStep(d, *step, m);
    if (r.kind == StepResult::Kind::kStopped) return Ending::kStopped;
    // A detail may quote what deployed code wrote (a hook's last line, an instance's stderr):
    // no secret of the app reaches the record, its events or the log.
    r.detail = RedactSecrets(deps_, d.app, std::move(r.detail));
    if (auto e = store_failed()) return *e;
    std::string detail =
        resumed ? std::string(kReasonControllerRestarted) + "; " + r.detail : r.detail;
    if (!note.empty()) detail = note + "; " + detail;
    resumed = false;
    note.clear();
    if (r.kind == StepResult::Kind::kCanceled && !aborted_by_.empty()) {
      reason = std::string(kReasonAbortedBy) + " " + aborted_by_;
      return EndAt(d, Ending::kAborted, OperationState::kCanceled, reason);
    }
    if (r.kind == StepResult::Kind::kCanceled) {
      reason = kReasonCanceledByRollback;
      return EndAt(d, Ending::kCanceled, OperationState::kCanceled, kReasonCanceledByRollback);
    }
    if (r.kind != StepResult::Kind::kOk) {
      reason = op.step + ": " + r.detail;
      return EndAt(d, Ending::kFailed, OperationState::kFailed, detail);
    }
    op.state = OperationState::kSucceeded;
    op.finishedAt = deps_.clock->NowMillis();
    op.detail = detail;
    ++d.cursor;
    // One commit ends this step and starts the next, so the record never shows a gap.
    if (d.cursor < steps) {
      d.operations[d.cursor].state = OperationState::kRunning;
      d.operations[d.cursor].startedAt = op.finishedAt;
      (void)Commit(d);
      if (StoreFailure()) {
        // The step is done, but the record does not say so: the next one does not start.
        --d.cursor;
        d.operations[d.cursor + 1].state = OperationState::kPending;
        d.operations[d.cursor + 1].startedAt = 0;
        auto failure = StoreFailure();
        reason = std::string(kReasonStoreFailed) + ": " + failure->message;
        for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
        return Ending::kStoreFailed;
      }
    }
  }
  return Ending::kSucceeded;
}

StepResult Executor::RunStep(Deployment& d, const Step& step, const Manifest& m) {
  // A step of a whole fleet deployment (a wave's gate, an analysis, the finish) sees the
  // deployment's hosts that have not failed: their routers' statistics merged, a publish
  // sent to each.
  std::unique_ptr<Routes> view;
  const EngineDeps deps =
      IsFleet(d) && step.host.empty() ? ForHosts(deps_, WorkingHosts(d), &view) : deps_;
  Context ctx(*this, d, m, deps);
  return RunStep(ctx, step);
}

}  // namespace lastgood
