#include "api/router_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

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

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = home_ + "/logs/router.log";
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // the controller blocks SIGTERM; the router must not
  posix_spawnattr_setsigdefault(&attr, &all);
  // Its own session: the router outlives the controller and its terminal.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> args = {exe_, "router", "--home", home_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Error::Unavailable("cannot start the router (" + exe_ + " router): " + strerror(rc));
  }
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
