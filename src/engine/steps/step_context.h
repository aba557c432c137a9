// StepContext: what a step of a deployment is given to run — the engine's dependencies, the
// deployment and the manifest of its version — and the executor's means for a step to wait
// without missing an interruption (a rollback preempting it, the user's abort, the
// controller stopping), to report progress and to read the user's intents.
//
// The executor implements it for the deployment it runs; one per step run, used by that
// step's thread only. The deployment and manifest it returns live as long as the context.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "engine/engine.h"
#include "engine/step.h"
#include "history/model.h"
#include "manifest/manifest.h"

namespace lastgood {

class StepContext {
 public:
  virtual ~StepContext() = default;

  virtual const EngineDeps& deps() const = 0;
  // The record of the deployment the step belongs to (its cursor is at the step).
  virtual Deployment& deployment() = 0;
  // The manifest of the deployment's version.
  virtual const Manifest& manifest() const = 0;

  // Why the step must stop waiting now (kCanceled: preempted or aborted, kStopped: the
  // controller stops), or kOk.
  virtual StepResult::Kind Interrupted() = 0;
  // Sleeps up to `d`, waking early when interrupted; false if interrupted.
  virtual bool Sleep(Millis d) = 0;
  // Records progress in the running operation's detail; committed at most about once a second.
  virtual void Progress(const std::string& detail) = 0;
  // Commits the deployment record now.
  virtual void Commit() = 0;
  // Commits the deployment record with these instance records put, in one transaction. The
  // steps of a fleet wave's hosts share such commits: one disk flush puts many hosts'
  // switches on record. Returns the commit's outcome.
  virtual Status CommitWith(const std::vector<InstanceRecord>& instances) = 0;
  // The user's pending intent for this deployment, if any; read from the store at most every
  // 100 ms unless `fresh`.
  virtual std::optional<IntentKind> Intent(bool fresh) = 0;
  // Marks the pending intent as answered.
  virtual void ClearIntent() = 0;
};

}  // namespace lastgood
