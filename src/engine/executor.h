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
  enum class Ending { kSucceeded, kFailed, kCanceled, kStopped };
  Ending RunPlan(Deployment& d, std::string& reason);
  StepResult RunStep(const Deployment& d, const Step& step, const Manifest& m);
  // Records the end of `d`, its version's verdict, and returns the automatic rollback
  // deployment's name if one was started.
  std::string Finish(Deployment& d, Ending ending, const std::string& reason);
  // The automatic rollback a failed deployment's policy asks for, if there is a version to
  // return to.
  std::optional<Deployment> AutoRollbackFor(const Deployment& failed);
  void Commit(const Deployment& d);
  // Which version's instances a step keeps warm instead of stopping, and until when.
  int KeepWarm(const Deployment& d, const Manifest& m) const;
  int64_t WarmUntil(const Manifest& m) const;

  const EngineDeps& deps_;
  std::atomic<bool>* cancel_;
  std::atomic<bool>* stopping_;
  std::function<void()> notify_;
};

}  // namespace lastgood
