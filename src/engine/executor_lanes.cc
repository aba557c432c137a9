// Fleet blocks (docs/fleets.md): the consecutive host steps of one wave, run host by host in
// parallel — at most maxParallel hosts at once, each host's steps in plan order — and the
// count of failed hosts against what the deployment tolerates (maxFailedHosts; a rollback or
// a reconcile reverts every host it can, and fails only when every host did).
//
// Every lane thread changes the shared record only under lanes_mu_, and commits it whole
// under the same lock, so that the record never shows a step that did not happen.
#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "engine/commit_watch.h"
#include "engine/executor.h"
#include "engine/fleet_record.h"
#include "engine/host_scope.h"
#include "engine/steps/steps.h"
#include "history/reasons.h"
#include "manifest/fleet.h"

namespace lastgood {
namespace {

constexpr int64_t kLaneProgressEveryMillis = 1000;
constexpr Millis kLaneSlice{25};

int64_t SteadyMillis(Clock* clock) {
  return std::chrono::duration_cast<Millis>(clock->Steady().time_since_epoch()).count();
}

// How many failed hosts the deployment goes on with.
int Tolerated(const Deployment& d, const Manifest& m, int hosts) {
  if (d.kind == DeploymentKind::kRollback || d.kind == DeploymentKind::kReconcile)
    return std::max(0, hosts - 1);
  return MaxFailedHosts(m.fleet.maxFailedHosts, hosts);
}

}  // namespace

// The executor as one host's steps see it: that host's deps, and the shared record behind
// the executor's lane lock.
class Executor::LaneContext : public StepContext {
 public:
  LaneContext(Executor& exec, Deployment& d, const Manifest& m, EngineDeps deps, int op,
              std::atomic<bool>* abandon)
      : exec_(exec), d_(d), m_(m), deps_(std::move(deps)), op_(op), abandon_(abandon) {}
  const EngineDeps& deps() const override { return deps_; }
  Deployment& deployment() override { return d_; }
  const Manifest& manifest() const override { return m_; }
  StepResult::Kind Interrupted() override {
    if (abandon_->load()) return StepResult::Kind::kCanceled;
    std::lock_guard lock(exec_.lanes_mu_);
    return exec_.Interrupted(d_);
  }
  bool Sleep(Millis d) override {
    auto until = deps_.clock->Steady() + d;
    while (deps_.clock->Steady() < until) {
      if (Interrupted() != StepResult::Kind::kOk) return false;
      deps_.clock->SleepFor(std::min<Millis>(
          kLaneSlice, std::chrono::duration_cast<Millis>(until - deps_.clock->Steady())));
    }
    return Interrupted() == StepResult::Kind::kOk;
  }
  void Progress(const std::string& detail) override {
    std::unique_lock lock(exec_.lanes_mu_);
    d_.operations[op_].detail = detail;
    int64_t now = SteadyMillis(deps_.clock);
    if (now - progress_at_ < kLaneProgressEveryMillis) return;
    progress_at_ = now;
    (void)exec_.CommitLane(lock, d_);
  }
  void Commit() override {
    std::unique_lock lock(exec_.lanes_mu_);
    (void)exec_.CommitLane(lock, d_);
  }
  lastgood::Status CommitWith(const std::vector<InstanceRecord>& instances) override {
    std::unique_lock lock(exec_.lanes_mu_);
    return exec_.CommitLane(lock, d_, instances);
  }
  std::optional<IntentKind> Intent(bool fresh) override {
    std::lock_guard lock(exec_.lanes_mu_);
    if (fresh) exec_.intent_read_at_ = 0;
    return exec_.ReadIntent(d_);
  }
  void ClearIntent() override {
    std::lock_guard lock(exec_.lanes_mu_);
    (void)exec_.deps_.store->ClearIntent(d_.app, d_.name);
    exec_.intent_.reset();
  }

 private:
  Executor& exec_;
  Deployment& d_;
  const Manifest& m_;
  const EngineDeps deps_;
  const int op_;
  std::atomic<bool>* abandon_;
  int64_t progress_at_ = 0;
};

void Executor::RunLane(Deployment& d, const Manifest& m, const std::vector<int>& ops, bool resumed,
                       std::atomic<bool>* abandon, std::atomic<int>* failed, int tolerated) {
  if (deps_.commits) deps_.commits->Watch();
  const std::string host = d.operations[ops.front()].host;
  auto skip_rest = [&](size_t from, const std::string& why) {
    std::unique_lock lock(lanes_mu_);
    for (size_t k = from; k < ops.size(); ++k) {
      Operation& rest = d.operations[ops[k]];
      if (rest.state == OperationState::kPending) {
        rest.state = OperationState::kSkipped;
        rest.detail = why;
      }
    }
    (void)CommitLane(lock, d);
  };
  for (size_t k = 0; k < ops.size(); ++k) {
    const int i = ops[k];
    OperationState state;
    {
      std::lock_guard lock(lanes_mu_);
      state = d.operations[i].state;
    }
    if (state == OperationState::kSucceeded || state == OperationState::kSkipped) continue;
    if (state == OperationState::kFailed) {
      skip_rest(k + 1, "host " + host + " failed");
      break;
    }
    const bool was_running = state == OperationState::kRunning;
    // The user's pause holds a host between its steps as it holds the plan between steps.
    bool interrupted = false;
    for (;;) {
      std::optional<IntentKind> intent;
      StepResult::Kind why;
      {
        std::lock_guard lock(lanes_mu_);
        intent = ReadIntent(d);
        why = abandon->load() ? StepResult::Kind::kCanceled : Interrupted(d);
      }
      if (why != StepResult::Kind::kOk) {
        interrupted = true;
        break;
      }
      if (intent != IntentKind::kPause) break;
      deps_.clock->SleepFor(kLaneSlice);
    }
    if (interrupted) break;  // left Pending (or Running, resumed later): RunLanes decides
    auto step = StepFromJson(d.operations[i].spec);
    auto scoped = ForHost(deps_, host);
    {
      std::unique_lock lock(lanes_mu_);
      Operation& op = d.operations[i];
      if (op.state != OperationState::kRunning) {
        op.state = OperationState::kRunning;
        op.startedAt = deps_.clock->NowMillis();
      }
      (void)CommitLane(lock, d);
    }
    StepResult r;
    if (!step.ok()) {
      r = StepResult::Failed(step.error().message);
    } else if (!scoped.ok()) {
      // An unreachable host is a failed host; it keeps serving what it served.
      r = StepResult::Failed(scoped.error().message);
    } else {
      LaneContext ctx(*this, d, m, *scoped, i, abandon);
      r = RunStep(ctx, *step);
    }
    if (r.kind == StepResult::Kind::kStopped) break;   // stays Running: resumed after a restart
    if (r.kind == StepResult::Kind::kCanceled) break;  // RunLanes marks it
    std::optional<Error> store_failure = deps_.commits ? deps_.commits->Failure() : std::nullopt;
    std::unique_lock lock(lanes_mu_);
    if (!store_failure) store_failure = lane_store_failure_;  // a grouped commit's
    Operation& op = d.operations[i];
    op.finishedAt = deps_.clock->NowMillis();
    std::string detail = r.detail;
    if (resumed && was_running) detail = std::string(kReasonControllerRestarted) + "; " + detail;
    if (store_failure) {
      if (!lane_store_failure_) lane_store_failure_ = *store_failure;
      op.state = OperationState::kFailed;
      op.detail = std::string(kReasonStoreFailed) + ": " + store_failure->message;
      break;
    }
    if (r.kind != StepResult::Kind::kOk) {
      op.state = OperationState::kFailed;
      op.detail = detail;
      for (size_t rest = k + 1; rest < ops.size(); ++rest) {
        Operation& o = d.operations[ops[rest]];
        if (o.state == OperationState::kPending) {
          o.state = OperationState::kSkipped;
          o.detail = "host " + host + " failed";
        }
      }
      if (failed->fetch_add(1) + 1 > tolerated) abandon->store(true);
      (void)CommitLane(lock, d);
      break;
    }
    op.state = OperationState::kSucceeded;
    op.detail = detail;
    (void)CommitLane(lock, d);
  }
  if (deps_.commits) {
    // A commit of this lane that failed ends the deployment, wherever it happened.
    if (auto failure = deps_.commits->Failure()) {
      std::lock_guard lock(lanes_mu_);
      if (!lane_store_failure_) lane_store_failure_ = *failure;
    }
    deps_.commits->Unwatch();
  }
}

lastgood::Status Executor::CommitLane(std::unique_lock<std::mutex>& lock, const Deployment& d,
                                      const std::vector<InstanceRecord>& instances) {
  const uint64_t mine = ++lane_changes_;
  lane_instances_.insert(lane_instances_.end(), instances.begin(), instances.end());
  while (lane_recorded_ < mine) {
    if (lane_committing_) {
      lanes_committed_.wait(lock);
      continue;
    }
    lane_committing_ = true;
    const uint64_t upto = lane_changes_;
    const Deployment snapshot = d;
    const std::vector<InstanceRecord> puts = std::exchange(lane_instances_, {});
    lock.unlock();
    lastgood::Status s = Commit(snapshot, puts);
    lock.lock();
    if (!s.ok() && !lane_store_failure_) lane_store_failure_ = s.error();
    lane_recorded_ = upto;
    lane_committing_ = false;
    lanes_committed_.notify_all();
  }
  // A store that failed any of the block's commits may not hold this change.
  if (lane_store_failure_) return *lane_store_failure_;
  return lastgood::Status::Ok();
}

StepResult Executor::RunStep(StepContext& ctx, const Step& step) {
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
    case Step::Op::kTakeWarm:
      return RunTakeWarm(ctx, step);
    case Step::Op::kFinish:
      return RunFinish(ctx, step);
  }
  return StepResult::Failed("unknown step");
}

bool Executor::RunLanes(Deployment& d, const Manifest& m, std::string& reason, Ending* ending) {
  const int steps = static_cast<int>(d.operations.size());
  const int begin = d.cursor;
  auto first = StepFromJson(d.operations[begin].spec);
  const int wave = first.ok() ? first->wave : 0;
  int end = begin;
  while (end < steps && !d.operations[end].host.empty()) {
    auto s = StepFromJson(d.operations[end].spec);
    if (!s.ok() || s->wave != wave) break;
    ++end;
  }
  // Lanes in plan order (a rollback's order is the reverse of the switching it undoes).
  std::vector<std::string> order;
  std::map<std::string, std::vector<int>> lanes;
  for (int i = begin; i < end; ++i) {
    const std::string& h = d.operations[i].host;
    if (!lanes.count(h)) order.push_back(h);
    lanes[h].push_back(i);
  }
  // A host that failed earlier in this deployment takes no further step.
  auto failed_before = FailedHosts(d);
  const int hosts = static_cast<int>(HostsOf(d).size());
  const int tolerated = Tolerated(d, m, hosts);
  std::atomic<int> failed{static_cast<int>(failed_before.size())};
  std::atomic<bool> abandon{false};
  const bool resumed =
      std::any_of(d.operations.begin() + begin, d.operations.begin() + end,
                  [](const Operation& op) { return op.state == OperationState::kRunning; });
  lane_store_failure_.reset();
  std::vector<std::string> to_run;
  {
    std::lock_guard lock(lanes_mu_);
    for (const auto& h : order) {
      bool earlier = false;
      for (int i : lanes[h]) earlier = earlier || d.operations[i].state == OperationState::kFailed;
      if (failed_before.count(h) && !earlier) {
        for (int i : lanes[h]) {
          if (d.operations[i].state == OperationState::kPending) {
            d.operations[i].state = OperationState::kSkipped;
            d.operations[i].detail = "host " + h + " failed earlier in this deployment";
          }
        }
        continue;
      }
      to_run.push_back(h);
    }
    (void)Commit(d);
  }
  const size_t parallel = std::max<size_t>(
      1, std::min<size_t>(static_cast<size_t>(m.fleet.maxParallel), to_run.size()));
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (size_t t = 0; t < parallel; ++t) {
    workers.emplace_back([&] {
      for (;;) {
        size_t k = next.fetch_add(1);
        if (k >= to_run.size() || abandon.load() || stopping_->load()) return;
        RunLane(d, m, lanes[to_run[k]], resumed, &abandon, &failed, tolerated);
      }
    });
  }
  for (auto& w : workers) w.join();

  // How the block ended: stopped (left as it is, resumed after a restart), interrupted by
  // the user or a rollback, too many failed hosts, or done.
  if (stopping_->load()) {
    *ending = Ending::kStopped;
    return false;
  }
  auto failed_now = FailedHosts(d);
  auto close = [&](Ending e, const std::string& why) {
    int at = -1;
    for (int i = begin; i < end; ++i) {
      Operation& op = d.operations[i];
      if (op.state == OperationState::kRunning) {
        op.state = OperationState::kCanceled;
        op.finishedAt = deps_.clock->NowMillis();
        op.detail = why;
      } else if (op.state == OperationState::kPending) {
        op.state = OperationState::kSkipped;
      }
      if (at < 0 && (op.state == OperationState::kFailed || op.state == OperationState::kCanceled))
        at = i;
    }
    for (int i = end; i < steps; ++i) d.operations[i].state = OperationState::kSkipped;
    d.cursor = at < 0 ? begin : at;
    *ending = e;
    return false;
  };
  if (lane_store_failure_) {
    reason = std::string(kReasonStoreFailed) + ": " + lane_store_failure_->message;
    return close(Ending::kStoreFailed, reason);
  }
  const bool too_many = static_cast<int>(failed_now.size()) > tolerated;
  if (!too_many) {
    if (!aborted_by_.empty()) {
      reason = std::string(kReasonAbortedBy) + " " + aborted_by_;
      return close(Ending::kAborted, reason);
    }
    if (cancel_->load()) {
      reason = kReasonCanceledByRollback;
      return close(Ending::kCanceled, reason);
    }
  }
  if (too_many) {
    reason = std::to_string(failed_now.size()) + " of " + std::to_string(hosts) + " hosts " +
             kReasonHostsFailed + " (maxFailedHosts " + std::to_string(tolerated) +
             "): " + DescribeFailedHosts(failed_now);
    const bool r = close(Ending::kFailed, "the deployment fails: " + reason);
    // A switch that stopped partway says where (the pending switches are Skipped by now).
    if (auto where = DescribeSwitches(d); !where.empty()) reason += "; " + where;
    return r;
  }
  // Every lane has ended; each has left its steps Succeeded, Failed or Skipped.
  d.cursor = end;
  return true;
}

}  // namespace lastgood
