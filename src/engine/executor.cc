#include "engine/executor.h"

#include "engine/steps/steps.h"
#include "history/reasons.h"
#include "manifest/parser.h"

namespace lastgood {

// The executor as its steps see it (engine/steps/step_context.h).
class Executor::Context : public StepContext {
 public:
  Context(Executor& exec, Deployment& d, const Manifest& m) : exec_(exec), d_(d), m_(m) {}
  const EngineDeps& deps() const override { return exec_.deps_; }
  Deployment& deployment() override { return d_; }
  const Manifest& manifest() const override { return m_; }
  StepResult::Kind Interrupted() override { return exec_.Interrupted(d_); }
  bool Sleep(Millis d) override { return exec_.Sleep(d_, d); }
  void Progress(const std::string& detail) override { exec_.Progress(d_, detail); }
  void Commit() override { exec_.Commit(d_); }
  std::string Intent(bool fresh) override {
    if (fresh) exec_.intent_read_at_ = 0;
    return exec_.ReadIntent(d_);
  }
  void ClearIntent() override {
    (void)exec_.deps_.store->SetIntent(d_.app, d_.name, "");
    exec_.intent_.clear();
  }

 private:
  Executor& exec_;
  Deployment& d_;
  const Manifest& m_;
};

Executor::Executor(const EngineDeps& deps, std::atomic<bool>* cancel, std::atomic<bool>* stopping,
                   std::function<void()> notify)
    : deps_(deps), cancel_(cancel), stopping_(stopping), notify_(std::move(notify)) {}

void Executor::Commit(const Deployment& d) {
  // A record that cannot be written is not a reason to abandon the instances; the next
  // commit (or a restart's recovery) writes the state again.
  (void)deps_.store->UpdateDeployment(d);
  notify_();
}

void Executor::Run(const std::string& app, const std::string& first) {
  std::string name = first;
  while (!name.empty()) {
    auto got = deps_.store->GetDeployment(app, name);
    if (!got.ok()) return;
    Deployment d = std::move(*got);
    if (IsFinal(d.state)) return;
    // Intents belong to one deployment: the rollback that follows an abort is not aborted.
    intent_.clear();
    intent_read_at_ = 0;
    aborted_by_.clear();
    if (d.cursor == 0 && !d.operations.empty() &&
        d.operations[0].state == OperationState::kPending) {
      Announce(d);  // "started", once: a resumed deployment has begun already
    }
    std::string reason;
    Ending ending = RunPlan(d, reason);
    if (ending == Ending::kStopped) return;  // left Running; Recover() resumes it
    name = Finish(d, ending, reason);
  }
}

Executor::Ending Executor::RunPlan(Deployment& d, std::string& reason) {
  auto version = deps_.store->GetVersion(d.app, d.version);
  if (!version.ok()) {
    reason = version.error().message;
    return Ending::kFailed;
  }
  auto parsed = ParseManifest(version->manifest, {});
  if (!parsed.ok()) {
    reason = "the stored manifest of v" + std::to_string(d.version) +
             " no longer parses: " + parsed.error().ToString();
    return Ending::kFailed;
  }
  const Manifest& m = parsed->manifest;
  const int steps = static_cast<int>(d.operations.size());
  // A step already Running when this starts was interrupted by a restart; it runs again
  // (every step is idempotent) and its record says so.
  bool resumed = d.cursor < steps && d.operations[d.cursor].state == OperationState::kRunning;
  while (d.cursor < steps) {
    Operation& op = d.operations[d.cursor];
    auto step = StepFromJson(op.spec);
    if (!step.ok()) {
      reason = step.error().message;
      return Ending::kFailed;
    }
    if (stopping_->load()) return Ending::kStopped;
    if (!WaitWhilePaused(d, *step) && stopping_->load()) return Ending::kStopped;
    if (!aborted_by_.empty()) {
      reason = "aborted by " + aborted_by_;
      op.state = OperationState::kCanceled;
      op.finishedAt = deps_.clock->NowMillis();
      op.detail = reason;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return Ending::kAborted;
    }
    if (cancel_->load()) {
      reason = kReasonCanceledByRollback;
      op.state = OperationState::kCanceled;
      op.finishedAt = deps_.clock->NowMillis();
      op.detail = kReasonCanceledByRollback;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return Ending::kCanceled;
    }
    if (op.state != OperationState::kRunning) {
      op.state = OperationState::kRunning;
      op.startedAt = deps_.clock->NowMillis();
      Commit(d);
    }
    StepResult r = RunStep(d, *step, m);
    if (r.kind == StepResult::Kind::kStopped) return Ending::kStopped;
    op.finishedAt = deps_.clock->NowMillis();
    op.detail = resumed ? std::string(kReasonControllerRestarted) + "; " + r.detail : r.detail;
    resumed = false;
    if (r.kind == StepResult::Kind::kCanceled && !aborted_by_.empty()) {
      reason = "aborted by " + aborted_by_;
      op.state = OperationState::kCanceled;
      op.detail = reason;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return Ending::kAborted;
    }
    if (r.kind != StepResult::Kind::kOk) {
      bool canceled = r.kind == StepResult::Kind::kCanceled;
      op.state = canceled ? OperationState::kCanceled : OperationState::kFailed;
      if (canceled) op.detail = kReasonCanceledByRollback;
      reason = canceled ? std::string(kReasonCanceledByRollback) : op.step + ": " + r.detail;
      for (int i = d.cursor + 1; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
      return canceled ? Ending::kCanceled : Ending::kFailed;
    }
    op.state = OperationState::kSucceeded;
    ++d.cursor;
    // One commit ends this step and starts the next, so the record never shows a gap.
    if (d.cursor < steps) {
      d.operations[d.cursor].state = OperationState::kRunning;
      d.operations[d.cursor].startedAt = op.finishedAt;
      Commit(d);
    }
  }
  return Ending::kSucceeded;
}

StepResult Executor::RunStep(Deployment& d, const Step& step, const Manifest& m) {
  Context ctx(*this, d, m);
  switch (step.op) {
    case Step::Op::kPrepare:
      return RunPrepare(ctx, step);
    case Step::Op::kStart:
      return RunStart(ctx, step);
    case Step::Op::kStopOld:
      return RunStopOld(ctx, step);
    case Step::Op::kBake:
      return RunBake(ctx, step);
    case Step::Op::kHook:
      return RunHook(ctx, step);
    case Step::Op::kWeight:
      return RunWeight(ctx, step);
    case Step::Op::kPause:
      return RunPause(ctx, step);
    case Step::Op::kAnalyze:
      return RunAnalyze(ctx, step);
    case Step::Op::kSmoke:
      return RunSmoke(ctx, step);
    case Step::Op::kSettings:
      return RunSettings(ctx, step);
    case Step::Op::kWarmup:
      return RunWarmup(ctx, step);
    case Step::Op::kSwitch:
      return RunSwitch(ctx, step);
    case Step::Op::kFinish:
      return RunFinish(ctx, step);
  }
  return StepResult::Failed("unknown step");
}

}  // namespace lastgood
