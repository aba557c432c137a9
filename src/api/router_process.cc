#include "api/router_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "base/build_id.h"
#include "process/spawn.h"

extern char** environ;

namespace lastgood {

bool RouterProcess::Revived(const Error& e) {
  if (e.code != ErrorCode::kUnavailable) return false;
  bool started = false;
  if (!Ensure(&started).ok() || !started) return false;
  std::fprintf(stderr, "lastgood serve: the router did not answer; started it again\n");
  return true;
}

Status RouterProcess::Apply(const RoutingTable& table) {
  Status s = control_->Apply(table);
  if (!s.ok() && Revived(s.error())) s = control_->Apply(table);
  return s;
}

Result<RouterStats> RouterProcess::Stats(Millis window) {
  auto stats = control_->Stats(window);
  if (!stats.ok() && Revived(stats.error())) stats = control_->Stats(window);
  return stats;
}

SpawnSpec RouterProcess::RouterSpawn(const std::vector<std::string>& extra) const {
  SpawnSpec spawn;
  spawn.exec_path = exe_;
  spawn.argv = {exe_, "router", "--home", home_};
  if (metrics_address_) {
    spawn.argv.push_back("--admin");
    spawn.argv.push_back(*metrics_address_);
  }
  if (threads_ > 0) {
    spawn.argv.push_back("--threads");
    spawn.argv.push_back(std::to_string(threads_));
  }
  spawn.argv.insert(spawn.argv.end(), extra.begin(), extra.end());
  for (char** e = environ; *e != nullptr; ++e) spawn.env.emplace_back(*e);
  std::string log = home_ + "/logs/router.log";
  spawn.in = Stdio::Null();
  spawn.out = Stdio::AppendTo(log);
  spawn.err = Stdio::AppendTo(log);
  // Its own session: the router outlives the controller and its terminal.
  spawn.detach = SpawnSpec::Detach::kSession;
  return spawn;
}

void RouterProcess::ReapLocked() {
  int status = 0;
  if (child_ > 0 && ::waitpid(child_, &status, WNOHANG) == child_) child_ = 0;
  std::erase_if(retired_, [](int pid) {
    int st = 0;
    return ::waitpid(pid, &st, WNOHANG) == pid;
  });
}

void RouterProcess::HandOverIfOtherBuild() {
  if (std::chrono::steady_clock::now() < next_take_over_) return;
  auto health = control_->Health();
  if (!health.ok() || health->buildId.empty() || health->buildId == BuildId()) return;
  const std::string running = health->buildId;
  const char* who = log_name_.c_str();
  std::fprintf(stderr,
               "%s: the router runs build %s, this is build %s: handing the data plane over "
               "(lastgood router --take-over)\n",
               who, running.c_str(), BuildId().c_str());
  auto retry_later = [&] {
    next_take_over_ = std::chrono::steady_clock::now() + kRouterTakeOverRetry;
    std::fprintf(stderr, "%s: the take-over is tried again in %llds\n", who,
                 static_cast<long long>(kRouterTakeOverRetry.count() / 1000));
  };
  Result<int> spawned = Spawn(RouterSpawn({"--take-over"}));
  if (!spawned.ok()) {
    std::fprintf(stderr, "%s: cannot start the new router (%s); keeping build %s\n", who,
                 spawned.error().message.c_str(), running.c_str());
    return retry_later();
  }
  int pid = *spawned;
  auto deadline = std::chrono::steady_clock::now() + kRouterTakeOverTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = control_->Health();
    if (now.ok() && now->buildId == BuildId()) {
      if (child_ > 0) retired_.push_back(child_);
      child_ = pid;
      std::fprintf(stderr, "%s: the router of build %s serves (pid %d)\n", who, BuildId().c_str(),
                   now->pid);
      return;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      std::fprintf(stderr,
                   "%s: the take-over failed (see %s/logs/router.log); the router of build %s "
                   "serves on\n",
                   who, home_.c_str(), running.c_str());
      return retry_later();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  retired_.push_back(pid);
  std::fprintf(stderr, "%s: the take-over did not finish within %llds\n", who,
               static_cast<long long>(kRouterTakeOverTimeout.count() / 1000));
  retry_later();
}

Status RouterProcess::Ensure(bool* started) {
  *started = false;
  std::lock_guard lock(mu_);
  ReapLocked();
  if (control_->Ping().ok()) {
    HandOverIfOtherBuild();
    return Status::Ok();
  }

  std::string log = home_ + "/logs/router.log";
  Result<int> spawned = Spawn(RouterSpawn({}));
  if (!spawned.ok()) {
    return Error::Unavailable("cannot start the router (" + exe_ +
                              " router): " + spawned.error().message);
  }
  int pid = *spawned;
  if (child_ > 0) retired_.push_back(child_);
  child_ = pid;
  auto deadline = std::chrono::steady_clock::now() + kRouterStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (control_->Ping().ok()) {
      *started = true;
      return Status::Ok();
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      child_ = 0;
      return Error::Unavailable("the router exited at start; see " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Error::Unavailable("the router did not answer within 5s; see " + log);
}

}  // namespace lastgood
