// The user's intents as the executor reads them (pause, resume, abort: STYLE.md rule 8), and
// the waits they interrupt. An intent is committed to the store by the API; the executor
// reads it at every step boundary and, while a step waits, at most every 100 ms.
#include <algorithm>

#include "engine/executor.h"
#include "engine/secret_env.h"

namespace lastgood {
namespace {

constexpr int64_t kIntentPollMillis = 100;
constexpr int64_t kProgressEveryMillis = 1000;
constexpr Millis kSlice{25};

int64_t SteadyMillis(Clock* clock) {
  return std::chrono::duration_cast<Millis>(clock->Steady().time_since_epoch()).count();
}

}  // namespace

std::optional<IntentKind> Executor::ReadIntent(const Deployment& d) {
  int64_t now = SteadyMillis(deps_.clock);
  if (now - intent_read_at_ >= kIntentPollMillis) {
    intent_read_at_ = now;
    auto got = deps_.store->GetIntent(d.app, d.name);
    intent_ = got.ok() ? *got : std::nullopt;
    if (intent_ && intent_->kind == IntentKind::kAbort && aborted_by_.empty())
      aborted_by_ = intent_->actor.empty() ? "an unknown user" : intent_->actor;
  }
  if (!intent_) return std::nullopt;
  return intent_->kind;
}

StepResult::Kind Executor::Interrupted(const Deployment& d) {
  if (stopping_->load()) return StepResult::Kind::kStopped;
  if (StoreFailure()) return StepResult::Kind::kFailed;
  if (cancel_->load()) return StepResult::Kind::kCanceled;
  ReadIntent(d);
  if (!aborted_by_.empty()) return StepResult::Kind::kCanceled;
  return StepResult::Kind::kOk;
}

bool Executor::Sleep(const Deployment& dep, Millis d) {
  auto until = deps_.clock->Steady() + d;
  while (deps_.clock->Steady() < until) {
    if (Interrupted(dep) != StepResult::Kind::kOk) return false;
    deps_.clock->SleepFor(std::min<Millis>(
        kSlice, std::chrono::duration_cast<Millis>(until - deps_.clock->Steady())));
  }
  return Interrupted(dep) == StepResult::Kind::kOk;
}

bool Executor::WaitWhilePaused(Deployment& d, const Step& next) {
  intent_read_at_ = 0;  // at a step boundary, always read afresh
  if (ReadIntent(d) == IntentKind::kResume && next.op != Step::Op::kPause) {
    // A resume that came as a timed pause ended by itself: it was for that pause, not for a
    // later one.
    (void)deps_.store->ClearIntent(d.app, d.name);  // watched: RunPlan checks
    intent_.reset();
  }
  if (!intent_ || intent_->kind != IntentKind::kPause)
    return Interrupted(d) == StepResult::Kind::kOk;
  Operation& op = d.operations[d.cursor];
  std::string before = op.detail;
  op.detail = "paused by the user; `lastgood resume " + d.app + "` goes on";
  (void)Commit(d);  // watched, as every commit of the executor
  while (ReadIntent(d) == IntentKind::kPause) {
    if (!Sleep(d, kSlice)) return false;
  }
  if (intent_ && intent_->kind == IntentKind::kResume)
    (void)deps_.store->ClearIntent(d.app, d.name);
  op.detail = before;
  (void)Commit(d);
  return true;
}

void Executor::Progress(Deployment& d, const std::string& detail) {
  int64_t now = SteadyMillis(deps_.clock);
  d.operations[d.cursor].detail = detail;
  if (now - progress_at_ < kProgressEveryMillis) return;
  progress_at_ = now;
  // A check's output may be in the detail (engine/secret_env.h, RedactSecrets).
  d.operations[d.cursor].detail = RedactSecrets(deps_, d.app, detail);
  (void)Commit(d);
}

}  // namespace lastgood
