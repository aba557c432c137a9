// Executor: walks one deployment's plan from its cursor to its end — each step run by its
// own file under engine/steps/ — committing each operation's state before and after it runs,
// and checking the user's intents (pause, resume, abort) and a preempting rollback at every
// step boundary. At the end it records the verdict and starts what follows
// (engine/auto_rollback.cc), and runs that too. Used by the engine's worker threads only;
// not thread-safe itself (one per worker).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/step.h"
#include "engine/steps/step_context.h"

namespace lastgood {

class Executor {
 public:
  // `cancel` is set when a rollback preempts this deployment; `stopping` when the
  // controller shuts down (the record is then left Running, to be resumed).
  Executor(const EngineDeps& deps, std::atomic<bool>* cancel, std::atomic<bool>* stopping,
           std::function<void()> notify);

  // Runs the deployment `name` of `app` (and any automatic rollback that follows). `note`:
  // what the deployment's start did of its first step, which is Running without a restart.
  void Run(const std::string& app, const std::string& name, const std::string& note = "");

 private:
  class Context;
  class LaneContext;
  // kStoreFailed: a commit failed; the deployment ends Failed with the store's error, and
  // its version keeps its verdict (the store, not the release, failed).
  enum class Ending { kSucceeded, kFailed, kStoreFailed, kCanceled, kAborted, kStopped };
  Ending RunPlan(Deployment& d, std::string& reason);
  // Ends the plan at the current operation (in `state`, with `detail`); the rest is skipped.
  Ending EndAt(Deployment& d, Ending ending, OperationState state, const std::string& detail);
  StepResult RunStep(Deployment& d, const Step& step, const Manifest& m);
  // The step's own file runs it (engine/steps/steps.h).
  static StepResult RunStep(StepContext& ctx, const Step& step);

  // Fleets (executor_lanes.cc): the block of host steps at the cursor — consecutive steps
  // with a host, of one wave — run host by host in parallel, at most the manifest's
  // maxParallel hosts at once, each host's steps in order. A host whose step fails is a
  // failed host: its other steps are skipped, here and in later blocks. Returns true once
  // the block is done (the cursor past it); false with `*ending` when the deployment ends
  // here: more hosts failed than it tolerates (`reason` names them), or it was interrupted.
  bool RunLanes(Deployment& d, const Manifest& m, std::string& reason, Ending* ending);
  // One host's steps of the block (`ops`, indices into d.operations), on a lane thread.
  void RunLane(Deployment& d, const Manifest& m, const std::vector<int>& ops, bool resumed,
               std::atomic<bool>* abandon, std::atomic<int>* failed, int tolerated);
  // A lane's change of `d` (made under `lock`, on lanes_mu_) committed: returns once a commit
  // that holds it has ended. Commits are grouped: the lane that finds none under way commits
  // the record as it is then, every lane's change so far, outside the lock; the others wait
  // for it. One disk flush thus records the steps of many hosts, each still on record before
  // its host goes on. A failed commit is the block's (lane_store_failure_).
  // `instances` are put in the same commit (StepContext::CommitWith); returns its outcome.
  lastgood::Status CommitLane(std::unique_lock<std::mutex>& lock, const Deployment& d,
                              const std::vector<InstanceRecord>& instances = {});

  // The user's intents and the waits they interrupt (intents.cc).
  // Why a step must stop waiting: the controller stops, a rollback preempts, or the user
  // aborts (intents are read from the store, at most every 100 ms).
  StepResult::Kind Interrupted(const Deployment& d);
  // At the boundary before `next`: blocks while the user has paused the deployment, and
  // drops a resume left over from a pause that ended by itself. False if interrupted.
  bool WaitWhilePaused(Deployment& d, const Step& next);
  std::optional<IntentKind> ReadIntent(const Deployment& d);
  // Sleeps up to `d`, waking early when interrupted; returns false if interrupted.
  bool Sleep(const Deployment& dep, Millis d);
  // Records progress in the running operation's detail, at most about once a second.
  void Progress(Deployment& d, const std::string& detail);
  // Commits the record. A failure is also seen by StoreFailure(), which every caller checks
  // at its next step boundary.
  lastgood::Status Commit(const Deployment& d, const std::vector<InstanceRecord>& instances = {});
  // The first commit of this deployment that failed, if any (engine/commit_watch.h).
  std::optional<Error> StoreFailure() const;

  // The end of a deployment and what follows it (auto_rollback.cc).
  // Records the end of `d`, its version's verdict, and returns the name of the deployment
  // that follows (an automatic rollback, an autoSwap) if one was started. While the store
  // fails, it waits for it (backing off) and tries again, until the controller stops.
  std::string Finish(Deployment& d, Ending ending, const std::string& reason);
  // One attempt at Finish's writes, from where the last attempt stopped (`ended`, `next`).
  lastgood::Status TryFinish(Deployment& d, Ending ending, bool& ended, std::string& next);
  // The automatic rollback a failed deployment's policy asks for (or, `aborted`, the one
  // an abort always makes), if there is a version to return to.
  Result<std::optional<Deployment>> AutoRollbackFor(const Deployment& failed, bool aborted);
  // The swap into production that a slot with autoSwap asks for after `d` succeeded; when its
  // checks refuse it, none, and `*refused` says why.
  std::optional<Deployment> AutoSwapAfter(const Deployment& d, std::string* refused);
  // A canary that did not succeed gets no new request; a bluegreen release that never went
  // live leaves the preview slot.
  lastgood::Status WithdrawTraffic(const Deployment& d);
  // Sends the deployment's end (or start) to the manifest's webhooks (announce.cc).
  void Announce(const Deployment& d);

  const EngineDeps& deps_;
  std::atomic<bool>* cancel_;
  std::atomic<bool>* stopping_;
  std::function<void()> notify_;
  std::optional<Intent> intent_;  // the last intent read
  int64_t intent_read_at_ = 0;    // steady millis
  std::string aborted_by_;        // set once an abort is seen: who asked
  int64_t progress_at_ = 0;       // steady millis of the last progress commit
  std::string note_;              // Run's note, for the first operation
  // Held by lane threads around the executor's state above and the record they share.
  std::mutex lanes_mu_;
  std::optional<Error> lane_store_failure_;  // GUARDED_BY(lanes_mu_): a lane's failed commit
  // CommitLane's group commit, GUARDED_BY(lanes_mu_): changes made, changes on record, and
  // whether a lane is committing now (lanes_committed_ signals each commit's end).
  uint64_t lane_changes_ = 0;
  uint64_t lane_recorded_ = 0;
  bool lane_committing_ = false;
  std::vector<InstanceRecord> lane_instances_;  // to be put with the next commit
  std::condition_variable lanes_committed_;
};

}  // namespace lastgood
