#include "process/child.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

namespace lastgood {

Child::Child(int pid) : pid_(pid), pidfd_(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))) {}

Child::~Child() {
  if (pidfd_ >= 0) close(pidfd_);
}

bool Child::ExitedWithin(Millis slice) {
  if (pidfd_ >= 0) {
    pollfd p{pidfd_, POLLIN, 0};
    poll(&p, 1, static_cast<int>(std::max<int64_t>(slice.count(), 0)));  // EINTR: ask below
  } else {
    std::this_thread::sleep_for(std::min(slice, Millis(10)));
  }
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid_;
}

void Child::StopGroup(Millis grace) {
  kill(-pid_, SIGTERM);
  auto give_up = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < give_up) {
    if (ExitedWithin(Millis(20))) break;
  }
  kill(-pid_, SIGKILL);
}

int Child::Reap() {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace lastgood
