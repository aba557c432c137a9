#include "api/router_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

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

Status RouterProcess::Ensure(bool* started) {
  *started = false;
  std::lock_guard lock(mu_);
  if (child_ > 0) {
    int status = 0;
    if (::waitpid(child_, &status, WNOHANG) == child_) child_ = 0;  // reap a dead router
  }
  if (control_->Ping().ok()) return Status::Ok();

  std::string log = home_ + "/logs/router.log";
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
  for (char** e = environ; *e != nullptr; ++e) spawn.env.emplace_back(*e);
  spawn.in = Stdio::Null();
  spawn.out = Stdio::AppendTo(log);
  spawn.err = Stdio::AppendTo(log);
  // Its own session: the router outlives the controller and its terminal.
  spawn.detach = SpawnSpec::Detach::kSession;
  Result<int> spawned = Spawn(spawn);
  if (!spawned.ok()) {
    return Error::Unavailable("cannot start the router (" + exe_ +
                              " router): " + spawned.error().message);
  }
  int pid = *spawned;
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
