// Executor: runs one deployment's plan from its cursor to its end, committing each
// operation's state before and after it runs, then records the verdict; on failure it
// starts the automatic rollback its policy asks for and runs that too. Used by the
// engine's worker threads only; not thread-safe itself (one per worker).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "engine/slot_instances.h"

namespace lastgood {

class Executor {
 public:
  // `cancel` is set when a rollback preempts this deployment; `stopping` when the
  // controller shuts down (the record is then left Running, to be resumed).
  Executor(const EngineDeps& deps, std::atomic<bool>* cancel, std::atomic<bool>* stopping,
           std::function<void()> notify);

  // Runs the deployment `name` of `app` (and any automatic rollback that follows).
  void Run(const std::string& app, const std::string& name);

 private:
  enum class Ending { kSucceeded, kFailed, kCanceled, kAborted, kStopped };
  Ending RunPlan(Deployment& d, std::string& reason);
  StepResult RunStep(Deployment& d, const Step& step, const Manifest& m);

  // The progressive steps (executor_steps.cc).
  StepResult RunHook(const Deployment& d, const Step& step, const Manifest& m);
  StepResult RunWeight(const Deployment& d, const Step& step);
  StepResult RunPause(Deployment& d, const Step& step);
  StepResult RunAnalyze(Deployment& d, const Step& step, const Manifest& m);
  StepResult RunSmoke(const Deployment& d, const Step& step, const Manifest& m);
  StepResult RunWarmup(const Deployment& d, const Step& step, const Manifest& m);
  StepResult RunSwitch(const Deployment& d, const Step& step, const Manifest& m);
  StepResult RunChecks(const Deployment& d, const Analysis& a);
  // Records progress in the running operation's detail, at most about once a second.
  void Progress(Deployment& d, const std::string& detail);

  // Why a step must stop waiting: the controller stops, a rollback preempts, or the user
  // aborts (intents are read from the store, at most every 100 ms).
  StepResult::Kind Interrupted(const Deployment& d);
  // At the boundary before `next`: blocks while the user has paused the deployment, and
  // drops a resume left over from a pause that ended by itself. False if interrupted.
  bool WaitWhilePaused(Deployment& d, const Step& next);
  std::string ReadIntent(const Deployment& d);
  // Sleeps up to `d`, waking early when interrupted; returns false if interrupted.
  bool Sleep(const Deployment& dep, Millis d);
  // Records the end of `d`, its version's verdict, and returns the automatic rollback
  // deployment's name if one was started.
  std::string Finish(Deployment& d, Ending ending, const std::string& reason);
  // The automatic rollback a failed deployment's policy asks for (or, `aborted`, the one
  // an abort always makes), if there is a version to return to.
  std::optional<Deployment> AutoRollbackFor(const Deployment& failed, bool aborted);
  // The swap into production that a slot with autoSwap asks for after `d` succeeded.
  std::optional<Deployment> AutoSwapAfter(const Deployment& d);
  // A canary that did not succeed gets no new request; a bluegreen release that never went
  // live leaves the preview slot.
  void WithdrawTraffic(const Deployment& d);
  StepResult RunFinish(const Deployment& d, const Step& step, const Manifest& m,
                       SlotInstances& slot);
  // Sends the deployment's end (or start) to the manifest's webhooks.
  void Announce(const Deployment& d);
  void Commit(const Deployment& d);
  // Which version's instances a step keeps warm instead of stopping, and until when.
  int KeepWarm(const Deployment& d, const Manifest& m) const;
  int64_t WarmUntil(const Manifest& m) const;

  const EngineDeps& deps_;
  std::atomic<bool>* cancel_;
  std::atomic<bool>* stopping_;
  std::function<void()> notify_;
  std::string intent_;          // the last intent read
  int64_t intent_read_at_ = 0;  // steady millis
  std::string aborted_by_;      // set once an "abort:<actor>" intent is seen
  int64_t progress_at_ = 0;     // steady millis of the last progress commit
};

}  // namespace lastgood
