// LocalTarget: supervises instance processes on this host.
//
// Lock discipline: mutex_ guards the instance table and every Instance's mutable fields.
// It is never held across fork/exec, sleeps or blocking waits: a (re)start marks the
// instance `spawning`, a stop marks it `stopping`, and the monitor leaves such instances to
// whoever marked them. Only the monitor reaps a running instance, except while Stop() owns
// it, so there is always exactly one waitpid() per child.
#include "targets/local/local_target.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "process/process_state.h"
#include "targets/local/launch.h"
#include "targets/local/orphans.h"

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr Millis kMonitorTick{100};
constexpr Millis kStopPollInterval{10};
constexpr Millis kStableRun{10'000};
constexpr int kStrayStopGrace = 2000;  // ms  // running this long resets the restart backoff
constexpr const char* kAdoptedExit = "exited (status unknown: adopted from an earlier controller)";

struct Instance {
  // Constant after insertion.
  InstanceSpec spec;
  int port = 0;
  // Guarded by LocalTarget::mutex_.
  int pid = 0;  // 0: not running
  uint64_t start_time = 0;
  bool own_child = true;  // false: adopted, not our child, polled through /proc
  bool wanted = true;
  bool spawning = false;
  bool stopping = false;
  int restarts = 0;
  std::string last_exit;
  SteadyClock::time_point started_at;
  SteadyClock::time_point restart_at;
  Millis backoff = kRestartBackoffMin;
};

bool ValidInstanceId(const std::string& id) {
  if (id.empty() || id.size() > 200 || id[0] == '.') return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

bool SameProcess(int pid, uint64_t start_time) {
  ProcessState state = ReadProcessState(pid);
  return state.start_time != 0 && state.start_time == start_time && !state.zombie;
}

// Non-blocking: the exit of an instance process, or nullopt while it runs. For our own
// child the group's stragglers are killed before the zombie (which pins the pgid) is reaped.
std::optional<std::string> CheckExited(int pid, bool own_child, uint64_t start_time) {
  int status = 0;
  if (own_child) {
    siginfo_t info{};
    if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return "exited";
    if (info.si_pid == 0) return std::nullopt;
    kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return DescribeWaitStatus(status);
  }
  // An adopted process may still be our child (same process, new LocalTarget).
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return DescribeWaitStatus(status);
  if (r == 0) return std::nullopt;
  if (SameProcess(pid, start_time)) return std::nullopt;
  return kAdoptedExit;
}

// SIGTERM to the group, SIGKILL after `grace`; returns once the process is gone.
std::string Terminate(int pid, bool own_child, uint64_t start_time, Millis grace) {
  // Signal an adopted pid only while it is provably the same process (pid reuse).
  auto may_signal = [&] { return own_child || SameProcess(pid, start_time); };
  auto leader_gone = [&] {
    if (own_child) {
      siginfo_t info{};
      return waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0;
    }
    return !SameProcess(pid, start_time);
  };
  // A pidfd (opened before the signal, so it names this very process) becomes readable the
  // moment the process exits: a stop costs the app's own exit time, not a poll interval.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (may_signal() && kill(-pid, SIGTERM) != 0) kill(pid, SIGTERM);
  auto deadline = SteadyClock::now() + grace;
  while (!leader_gone() && SteadyClock::now() < deadline) {
    if (pidfd >= 0) {
      auto left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now());
      struct pollfd p {
        pidfd, POLLIN, 0
      };
      ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    } else {
      std::this_thread::sleep_for(kStopPollInterval);
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  if (may_signal() && kill(-pid, SIGKILL) != 0) kill(pid, SIGKILL);
  if (own_child) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return "stopped";
    }
    return DescribeWaitStatus(status);
  }
  while (true) {
    std::optional<std::string> exit = CheckExited(pid, false, start_time);
    if (exit) return *exit;
    std::this_thread::sleep_for(kStopPollInterval);
  }
}

Result<int> Launch(const InstanceSpec& spec, int port) {
  Result<LaunchPlan> plan = PlanLaunch(spec, port);
  if (!plan.ok()) return plan.error();
  return SpawnInstance(*plan);
}

class LocalTarget final : public Target {
 public:
  explicit LocalTarget(std::string launch_dir)
      : launches_(std::move(launch_dir)), monitor_([this] { Monitor(); }) {}

  ~LocalTarget() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      instances_.clear();
      shutting_down_ = true;
    }
    wake_.notify_all();
    monitor_.join();
  }

  Result<InstanceHandle> Start(const InstanceSpec& spec) override {
    if (!ValidInstanceId(spec.id)) {
      return Error::InvalidInput("instance id '" + spec.id + "' is not a plain name");
    }
    auto inst = std::make_shared<Instance>();
    inst->spec = spec;
    inst->spawning = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = instances_.find(spec.id);
      if (it != instances_.end() && (it->second->wanted || it->second->pid != 0 ||
                                     it->second->spawning || it->second->stopping)) {
        return Error::Conflict("instance " + spec.id + " is already running");
      }
      instances_[spec.id] = inst;
    }
    Result<int> pid = Error::Internal("not started");
    if (spec.port != 0) {
      inst->port = spec.port;
    } else if (Result<int> port = PickFreePort(); port.ok()) {
      inst->port = *port;
    } else {
      pid = port.error();
    }
    if (inst->port != 0) {
      std::error_code ec;
      if (!spec.logDir.empty()) std::filesystem::create_directories(spec.logDir, ec);
      launches_.Put(spec.id, 0, 0);
      pid = Launch(spec, inst->port);
      if (!pid.ok()) launches_.Remove(spec.id);
    }

    std::lock_guard<std::mutex> lock(mutex_);
    inst->spawning = false;
    changed_.notify_all();
    if (!pid.ok()) {
      auto it = instances_.find(spec.id);
      if (it != instances_.end() && it->second == inst) instances_.erase(it);
      return pid.error();
    }
    inst->pid = *pid;
    inst->start_time = ProcessStartTime(*pid);
    launches_.Put(spec.id, inst->pid, inst->start_time);
    inst->started_at = SteadyClock::now();
    return HandleOf(*inst);
  }

  Result<InstanceHandle> Adopt(const InstanceSpec& spec, const InstanceHandle& h) override {
    if (!ValidInstanceId(spec.id)) {
      return Error::InvalidInput("instance id '" + spec.id + "' is not a plain name");
    }
    if (h.pid <= 0 || h.startTime == 0 || !SameProcess(h.pid, h.startTime)) {
      return Error::NotFound("instance " + spec.id + " (pid " + std::to_string(h.pid) +
                             ") is no longer running");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = instances_.find(spec.id);
    if (it != instances_.end()) {
      const Instance& known = *it->second;
      if (known.pid == h.pid && known.start_time == h.startTime) return HandleOf(known);
      if (known.wanted || known.pid != 0 || known.spawning || known.stopping) {
        return Error::Conflict("instance " + spec.id + " is already running");
      }
    }
    auto inst = std::make_shared<Instance>();
    inst->spec = spec;
    inst->port = h.port != 0 ? h.port : spec.port;
    inst->pid = h.pid;
    inst->start_time = h.startTime;
    inst->own_child = false;
    launches_.Put(spec.id, inst->pid, inst->start_time);
    inst->started_at = SteadyClock::now();
    instances_[spec.id] = inst;
    return HandleOf(*inst);
  }

  lastgood::Status Stop(const std::string& id) override {
    std::shared_ptr<Instance> inst;
    int pid;
    bool own_child;
    uint64_t start_time;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      auto it = instances_.find(id);
      if (it == instances_.end()) return lastgood::Status::Ok();
      inst = it->second;
      inst->wanted = false;
      changed_.wait(lock, [&] { return !inst->spawning && !inst->stopping; });
      if (inst->pid == 0) return lastgood::Status::Ok();
      inst->stopping = true;
      pid = inst->pid;
      own_child = inst->own_child;
      start_time = inst->start_time;
    }
    std::string exit = Terminate(pid, own_child, start_time, inst->spec.stopGrace);
    std::lock_guard<std::mutex> lock(mutex_);
    inst->pid = 0;
    launches_.Remove(id);
    inst->last_exit = exit;
    inst->stopping = false;
    changed_.notify_all();
    return lastgood::Status::Ok();
  }

  Result<InstanceStatus> Status(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = instances_.find(id);
    if (it == instances_.end()) return Error::NotFound("no instance " + id);
    const Instance& inst = *it->second;
    InstanceStatus status;
    status.alive = inst.pid != 0;
    status.restarts = inst.restarts;
    status.lastExit = inst.last_exit;
    status.handle = HandleOf(inst);
    return status;
  }

  void Detach() override {
    std::lock_guard<std::mutex> lock(mutex_);
    instances_.clear();
  }

  void StopStrays() override {
    std::set<std::pair<int, uint64_t>> supervised;
    std::set<std::string> supervised_ids;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [id, inst] : instances_) {
        supervised_ids.insert(id);
        if (inst->pid != 0) supervised.insert({inst->pid, inst->start_time});
      }
    }
    for (const auto& entry : launches_.All()) {
      // Ours and supervised, or being started right now.
      if (supervised.count({entry.pid, entry.startTime}) || supervised_ids.count(entry.id)) {
        continue;
      }
      // Ours, with no record: stop it. Gone, or no longer provably ours: forget the record.
      if (entry.pid == 0) {
        for (int pid : FindPendingInstance(entry.id)) StopProcessGroup(pid, kStrayStopGrace);
      } else if (IsRecordedInstance(entry)) {
        StopProcessGroup(entry.pid, kStrayStopGrace);
      }
      launches_.Remove(entry.id);
    }
  }

 private:
  static InstanceHandle HandleOf(const Instance& inst) {
    return {inst.spec.id, inst.pid, inst.start_time, inst.port};
  }

  // The one monitor thread: notices exits and restarts wanted instances after a backoff.
  void Monitor() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!shutting_down_) {
      wake_.wait_for(lock, kMonitorTick);
      if (shutting_down_) break;
      auto now = SteadyClock::now();
      std::vector<std::shared_ptr<Instance>> due;
      for (auto& [id, inst] : instances_) {
        if (inst->spawning || inst->stopping) continue;
        if (inst->pid != 0) {
          std::optional<std::string> exit =
              CheckExited(inst->pid, inst->own_child, inst->start_time);
          if (!exit) continue;
          RecordExit(*inst, *exit, now);
        }
        if (inst->wanted && now >= inst->restart_at) {
          inst->spawning = true;
          due.push_back(inst);
        }
      }
      if (due.empty()) continue;
      lock.unlock();
      std::vector<Result<int>> pids;
      for (const auto& inst : due) {
        launches_.Put(inst->spec.id, 0, 0);
        pids.push_back(Launch(inst->spec, inst->port));
      }
      lock.lock();
      now = SteadyClock::now();
      for (size_t i = 0; i < due.size(); ++i) {
        Instance& inst = *due[i];
        inst.spawning = false;
        if (pids[i].ok()) {
          inst.pid = *pids[i];
          inst.start_time = ProcessStartTime(inst.pid);
          launches_.Put(inst.spec.id, inst.pid, inst.start_time);
          inst.own_child = true;
          inst.started_at = now;
          ++inst.restarts;
        } else {
          inst.last_exit += "; restart failed: " + pids[i].error().message;
          ScheduleRestart(inst, now);
        }
      }
      changed_.notify_all();
    }
  }

  static void RecordExit(Instance& inst, const std::string& exit, SteadyClock::time_point now) {
    inst.pid = 0;
    inst.last_exit = exit;
    if (now - inst.started_at >= kStableRun) inst.backoff = kRestartBackoffMin;
    ScheduleRestart(inst, now);
  }

  static void ScheduleRestart(Instance& inst, SteadyClock::time_point now) {
    inst.restart_at = now + inst.backoff;
    inst.backoff = std::min(inst.backoff * 2, kRestartBackoffMax);
  }

  const LaunchRecords launches_;
  std::mutex mutex_;
  std::condition_variable wake_;     // wakes the monitor (shutdown)
  std::condition_variable changed_;  // an instance finished spawning or stopping
  std::map<std::string, std::shared_ptr<Instance>> instances_;  // guarded by mutex_
  bool shutting_down_ = false;                                  // guarded by mutex_
  std::thread monitor_;  // last: starts after the members above exist
};

}  // namespace

std::unique_ptr<Target> NewLocalTarget(std::string launch_dir) {
  return std::make_unique<LocalTarget>(std::move(launch_dir));
}

}  // namespace lastgood
