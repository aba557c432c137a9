#include "router/keeper.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process/spawn.h"
#include "router/socket_handoff.h"
#include "router/worker_count.h"

extern char** environ;

namespace lastgood {
namespace keeper_internal {

using Clock = std::chrono::steady_clock;

// A worker that dies sooner than this after its start counts as failing to start: the next
// one waits, doubling up to kMaxRestartDelay, so that a worker that cannot start does not
// spin (a first crash is replaced at once).
constexpr std::chrono::milliseconds kQuickDeath{1000};
constexpr std::chrono::milliseconds kMaxRestartDelay{2000};
// How long a take-over waits for the running keeper's sockets and for its own worker.
constexpr int kTakeOverTimeoutMs = 10'000;

void KeeperLog(const std::string& line) { fprintf(stderr, "lastgood router: %s\n", line.c_str()); }

void CloseAll(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  return addr;
}

// A SOCK_SEQPACKET connection to `path`, or -1.
int ConnectSeqpacket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr = UnixAddress(path);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool Answers(const std::string& path, int type) {
  int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr = UnixAddress(path);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Sends every held socket as "hold ADDR" (+ "more ADDR" past kHandoffFdLimit), then "end".
Status SendHeld(int sock, const std::map<std::string, std::vector<int>>& held) {
  for (const auto& [address, fds] : held) {
    for (size_t at = 0; at < fds.size(); at += kHandoffFdLimit) {
      size_t n = std::min(kHandoffFdLimit, fds.size() - at);
      std::vector<int> part(fds.begin() + at, fds.begin() + at + n);
      LG_RETURN_IF_ERROR(SendHandoff(sock, (at == 0 ? "hold " : "more ") + address, part));
    }
  }
  return SendHandoff(sock, "end");
}

// Applies one "hold"/"more"/"drop" message to `held`; false for any other text.
bool UpdateHeld(HandoffMessage& m, std::map<std::string, std::vector<int>>& held) {
  auto verb = [&](const char* v) { return m.text.rfind(v, 0) == 0; };
  if (verb("hold ")) {
    auto& fds = held[m.text.substr(5)];
    CloseAll(fds);
    fds = std::move(m.fds);
  } else if (verb("more ")) {
    auto& fds = held[m.text.substr(5)];
    fds.insert(fds.end(), m.fds.begin(), m.fds.end());
    m.fds.clear();
  } else if (verb("drop ")) {
    auto it = held.find(m.text.substr(5));
    if (it != held.end()) {
      CloseAll(it->second);
      held.erase(it);
    }
  } else {
    return false;
  }
  return true;
}

class Keeper {
 public:
  Keeper(const RouterOptions& options, int threads) : options_(options), threads_(threads) {}

  int Run(bool take_over, int adopt_worker) {
    adopting_ = adopt_worker > 0;
    if (adopt_worker > 0) {
      // The worker's sockets first, before this keeper can be found (Prepare).
      for (;;) {
        auto m = ReceiveHandoff(0, kTakeOverTimeoutMs);
        if (!m.ok()) {
          KeeperLog("--adopt-worker: the worker sent no sockets: " + m.error().message);
          return ExitCodeFor(ErrorCode::kUnavailable);
        }
        if (m->text == "end") break;
        if (!UpdateHeld(*m, held_)) CloseAll(m->fds);
      }
    }
    if (int code = Prepare(take_over); code != 0) return code;
    if (adopt_worker > 0) {
      if (!Adopt(adopt_worker)) return 1;
    } else if (!StartWorker()) {
      return 1;
    }
    while (!done_) Poll();
    Finish();
    return exit_code_;
  }

 private:
  struct Child {
    int channel = -1;
    Clock::time_point started;
    bool ready = false;
    bool leaving = false;  // told to drain, or said it drains: never replaced
  };

  std::string Path(const char* name) const { return options_.home + "/" + name; }

  int Prepare(bool take_over) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGTERM, SIGINT, SIGCHLD}) sigaddset(&mask, s);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);
    signals_ = ::signalfd(-1, &mask, SFD_CLOEXEC);
    ::mkdir(options_.home.c_str(), 0700);
    const std::string keeper_path = Path(kKeeperSocketName);
    if (take_over) {
      predecessor_ = ConnectSeqpacket(keeper_path);
      if (predecessor_ < 0) {
        KeeperLog("--take-over: no router answers on " + keeper_path + " (" + strerror(errno) +
                  "); start one without --take-over");
        return ExitCodeFor(ErrorCode::kUnavailable);
      }
      if (HandoffPeerUid(predecessor_) != static_cast<int>(::getuid())) {
        KeeperLog("--take-over: " + keeper_path + " belongs to another user");
        return ExitCodeFor(ErrorCode::kConflict);
      }
      if (auto s = SendHandoff(predecessor_, "take-over"); !s.ok()) {
        KeeperLog(s.error().message);
        return ExitCodeFor(ErrorCode::kUnavailable);
      }
      for (;;) {
        auto m = ReceiveHandoff(predecessor_, kTakeOverTimeoutMs);
        if (!m.ok()) {
          KeeperLog("--take-over: the running router did not hand its sockets over: " +
                    m.error().message);
          return ExitCodeFor(ErrorCode::kUnavailable);
        }
        if (m->text == "end") break;
        if (!UpdateHeld(*m, held_)) CloseAll(m->fds);
      }
      KeeperLog("took over " + std::to_string(held_.size()) +
                " listener(s) from the running router");
    } else if (Answers(keeper_path, SOCK_SEQPACKET) ||
               (!adopting_ && Answers(Path("router.sock"), SOCK_STREAM))) {
      KeeperLog("another router is serving " + options_.home +
                " (its pids are in router-keeper.pid and router.pid); stop it, or replace it with "
                "`lastgood router --take-over`");
      return ExitCodeFor(ErrorCode::kConflict);
    }
    // From here on, a newcomer reaches this keeper. The old keeper's socket (after a
    // take-over) is unlinked, not closed: it still serves the connection to us.
    ::unlink(keeper_path.c_str());
    listener_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr = UnixAddress(keeper_path);
    mode_t old_mask = ::umask(0077);
    bool bound = listener_ >= 0 &&
                 ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                 ::listen(listener_, 8) == 0;
    ::umask(old_mask);
    if (!bound) {
      KeeperLog("cannot listen on " + keeper_path + ": " + strerror(errno));
      return ExitCodeFor(ErrorCode::kUnavailable);
    }
    struct stat st {};
    if (::stat(keeper_path.c_str(), &st) == 0) socket_inode_ = st.st_ino;
    std::ofstream(Path(kKeeperPidName)) << ::getpid() << "\n";
    return 0;
  }

  // A worker this keeper did not start (its keeper died): watched through a pidfd, since
  // no SIGCHLD comes for it; its channel is this keeper's standard input.
  bool Adopt(int pid) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      KeeperLog("cannot watch the worker (pid " + std::to_string(pid) + "): " + strerror(errno));
      return false;
    }
    children_[pid] = {0, Clock::now(), true, false};
    current_ = pid;
    adopted_ = pid;
    adopted_pidfd_ = pidfd;
    ever_ready_ = true;
    KeeperLog("keeping the sockets of the running worker (pid " + std::to_string(pid) +
              "), whose keeper is gone");
    return true;
  }

  // The adopted worker has exited: as Reap does for a child.
  void OnAdoptedExit() {
    ::close(adopted_pidfd_);
    adopted_pidfd_ = -1;
    const int pid = adopted_;
    adopted_ = 0;
    auto it = children_.find(pid);
    if (it == children_.end()) return;
    while (it->second.channel >= 0 && OnChild(pid, it->second)) {
    }
    Child c = it->second;
    if (c.channel >= 0) ::close(c.channel);
    children_.erase(it);
    if ((stopping_ || retiring_) && children_.empty()) done_ = true;
    if (pid != current_ || c.leaving || stopping_ || retiring_) return;
    KeeperLog("the worker (pid " + std::to_string(pid) +
              ") has exited; the listening sockets stay open, starting another");
    if (!StartWorker()) Backoff();
  }

  bool StartWorker() {
    int pair[2];
    if (auto s = HandoffPair(pair); !s.ok()) {
      KeeperLog(s.error().message);
      return false;
    }
    SpawnSpec spawn;
    // This very binary, even when an upgrade replaced the file it was started from: a
    // worker is always the keeper's own build.
    spawn.exec_path = "/proc/self/exe";
    spawn.argv = {"lastgood",
                  "router",
                  "--worker",
                  "--home",
                  options_.home,
                  "--threads",
                  std::to_string(threads_),
                  "--admin",
                  options_.admin,
                  "--max-connections",
                  std::to_string(options_.max_connections)};
    for (char** e = environ; *e != nullptr; ++e) spawn.env.emplace_back(*e);
    spawn.in = Stdio::Fd(pair[1]);
    spawn.out = Stdio::Inherit();
    spawn.err = Stdio::Inherit();
    // Its own group: a terminal's ^C reaches the keeper, which stops the worker in order.
    spawn.detach = SpawnSpec::Detach::kGroup;
    Result<int> pid = Spawn(spawn);
    ::close(pair[1]);
    if (!pid.ok()) {
      KeeperLog("cannot start a worker: " + pid.error().message);
      ::close(pair[0]);
      return false;
    }
    if (auto s = SendHeld(pair[0], held_); !s.ok())
      KeeperLog("worker " + std::to_string(*pid) + ": " + s.error().message);
    children_[*pid] = {pair[0], Clock::now(), false, false};
    current_ = *pid;
    return true;
  }

  void Poll() {
    std::vector<pollfd> fds;
    fds.push_back({signals_, POLLIN, 0});
    if (listener_ >= 0) fds.push_back({listener_, POLLIN, 0});
    for (auto& [pid, c] : children_)
      if (c.channel >= 0) fds.push_back({c.channel, POLLIN, 0});
    for (int p : peers_) fds.push_back({p, POLLIN, 0});
    if (predecessor_ >= 0) fds.push_back({predecessor_, POLLIN, 0});
    if (adopted_pidfd_ >= 0) fds.push_back({adopted_pidfd_, POLLIN, 0});
    int timeout = -1;
    if (restart_at_) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*restart_at_ - Clock::now());
      timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (restart_at_ && Clock::now() >= *restart_at_) {
      restart_at_.reset();
      if (!stopping_ && !retiring_ && !StartWorker()) Backoff();
    }
    if (n <= 0) return;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == signals_) {
        OnSignal();
      } else if (p.fd == listener_) {
        int c = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0 && HandoffPeerUid(c) == static_cast<int>(::getuid())) {
          peers_.push_back(c);
        } else if (c >= 0) {
          ::close(c);
        }
      } else if (p.fd == predecessor_) {
        OnPredecessor();
      } else if (p.fd == adopted_pidfd_) {
        OnAdoptedExit();
      } else if (std::find(peers_.begin(), peers_.end(), p.fd) != peers_.end()) {
        OnPeer(p.fd);
      } else {
        for (auto& [pid, c] : children_)
          if (c.channel == p.fd) OnChild(pid, c);
      }
    }
  }

  void OnSignal() {
    signalfd_siginfo info{};
    while (::read(signals_, &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGCHLD) {
        Reap();
      } else if (!stopping_) {
        KeeperLog("stopping (signal " + std::to_string(info.ssi_signo) + "): the worker drains");
        stopping_ = true;
        LeaveAll();
      }
      // One read per wake-up; a signalfd is level-triggered, poll comes back.
      break;
    }
    if ((stopping_ || retiring_) && children_.empty()) done_ = true;
  }

  // Tells every worker to drain and exit.
  void LeaveAll() {
    for (auto& [pid, c] : children_) {
      c.leaving = true;
      ::kill(pid, SIGTERM);
    }
    if (children_.empty()) done_ = true;
  }

  void Reap() {
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      auto it = children_.find(pid);
      if (it == children_.end()) continue;
      // What it said before it exited (its statistics, for its successor) is still queued.
      while (it->second.channel >= 0 && OnChild(pid, it->second)) {
      }
      Child c = it->second;
      if (c.channel >= 0) ::close(c.channel);
      children_.erase(it);
      if (pid != current_ || c.leaving || stopping_ || retiring_) continue;
      std::string how = WIFSIGNALED(status)
                            ? "was killed by signal " + std::to_string(WTERMSIG(status))
                            : "exited with " + std::to_string(WEXITSTATUS(status));
      if (!ever_ready_) {
        // The first worker never served: a start failure (a taken control socket, a table
        // that cannot be read). Say so with its code rather than retry for ever.
        KeeperLog("the worker " + how + " before it served; see the lines above");
        exit_code_ = WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
        stopping_ = true;
        LeaveAll();
        return;
      }
      bool quick = Clock::now() - c.started < kQuickDeath;
      KeeperLog("the worker (pid " + std::to_string(pid) + ") " + how +
                "; the listening sockets stay open, starting another");
      if (quick) {
        Backoff();
      } else {
        delay_ = std::chrono::milliseconds(0);
        if (!StartWorker()) Backoff();
      }
    }
  }

  void Backoff() {
    delay_ = std::clamp(delay_ * 2, std::chrono::milliseconds(50), kMaxRestartDelay);
    restart_at_ = Clock::now() + delay_;
  }

  // Reads one message of worker `pid`; false when there was none.
  bool OnChild(int pid, Child& c) {
    auto m = ReceiveHandoff(c.channel, 0);
    if (!m.ok() && m.error().message.rfind("handoff: no message", 0) == 0) return false;
    if (!m.ok()) {
      // Closed: the worker is exiting; SIGCHLD follows.
      ::close(c.channel);
      c.channel = -1;
      return false;
    }
    if (pid == current_ && UpdateHeld(*m, held_)) return true;
    if (m->text == "stats" && m->fds.size() == 1) {
      // A worker that drained hands its counters to whoever serves after it: our newer
      // worker, or, after a take-over, the new keeper (which gives them to its worker).
      if (successor_ >= 0) {
        (void)SendHandoff(successor_, "stats", m->fds);
      } else if (pid != current_) {
        ForwardStats(m->fds);
      }
    }
    CloseAll(m->fds);
    if (m->text == "ready") {
      c.ready = true;
      ever_ready_ = true;
      delay_ = std::chrono::milliseconds(0);
      if (predecessor_ >= 0) {
        // Our worker serves: the old keeper may drain its own now.
        (void)SendHandoff(predecessor_, "ready");
        KeeperLog("serving; the previous router drains");
      }
    } else if (m->text == "draining" && pid == current_ && !c.leaving) {
      c.leaving = true;
      if (!stopping_ && !retiring_) {
        KeeperLog("the worker (pid " + std::to_string(pid) + ") drains; starting its successor");
        if (!StartWorker()) Backoff();
      }
    }
    return true;
  }

  // Statistics for the newest worker (router/stats_carry.h); nobody to give them to: dropped.
  void ForwardStats(const std::vector<int>& fds) {
    auto it = children_.find(current_);
    if (it != children_.end() && it->second.channel >= 0)
      (void)SendHandoff(it->second.channel, "stats", fds);
  }

  // The keeper we took over from: its worker's statistics once that one drained, then its
  // exit (the connection closes).
  void OnPredecessor() {
    auto m = ReceiveHandoff(predecessor_, 0);
    if (!m.ok() && m.error().message.rfind("handoff: no message", 0) == 0) return;
    if (!m.ok()) {
      ::close(predecessor_);
      predecessor_ = -1;
      return;
    }
    if (m->text == "stats" && m->fds.size() == 1) ForwardStats(m->fds);
    CloseAll(m->fds);
  }

  void OnPeer(int peer) {
    auto m = ReceiveHandoff(peer, 0);
    if (!m.ok() && m.error().message.rfind("handoff: no message", 0) == 0) return;
    if (!m.ok()) {
      ::close(peer);
      std::erase(peers_, peer);
      if (peer == successor_) {
        successor_ = -1;
        if (!retiring_) KeeperLog("the router taking over gave up; serving on");
      }
      return;
    }
    CloseAll(m->fds);
    if (m->text == "take-over" && successor_ < 0 && !stopping_ && !retiring_) {
      KeeperLog("a new router takes over: handing over " + std::to_string(held_.size()) +
                " listener(s)");
      successor_ = peer;
      if (auto s = SendHeld(peer, held_); !s.ok()) KeeperLog(s.error().message);
    } else if (m->text == "ready" && peer == successor_) {
      KeeperLog("the new router serves; draining and exiting");
      retiring_ = true;
      ::close(listener_);  // its path is the new keeper's now
      listener_ = -1;
      LeaveAll();
    }
  }

  void Finish() {
    for (auto& [address, fds] : held_) CloseAll(fds);
    for (int p : peers_) ::close(p);
    if (listener_ >= 0) ::close(listener_);
    // The paths are ours only if no newer keeper replaced them.
    struct stat st {};
    if (::stat(Path(kKeeperSocketName).c_str(), &st) == 0 && st.st_ino == socket_inode_)
      ::unlink(Path(kKeeperSocketName).c_str());
    std::ifstream pid_file(Path(kKeeperPidName));
    int recorded = 0;
    if (pid_file >> recorded && recorded == ::getpid()) ::unlink(Path(kKeeperPidName).c_str());
    KeeperLog("stopped");
  }

  const RouterOptions options_;
  const int threads_;
  int signals_ = -1, listener_ = -1;
  ino_t socket_inode_ = 0;
  int predecessor_ = -1;  // the keeper we took over from, until our worker serves
  int successor_ = -1;    // the peer taking over from us
  std::vector<int> peers_;
  std::map<std::string, std::vector<int>> held_;  // listening sockets by table address
  std::map<int, Child> children_;                 // by pid
  int current_ = 0;                               // the newest worker
  int adopted_ = 0, adopted_pidfd_ = -1;          // a worker this keeper did not start
  bool ever_ready_ = false, stopping_ = false, retiring_ = false, done_ = false;
  bool adopting_ = false;  // started by a worker whose keeper died (--adopt-worker)
  int exit_code_ = 0;
  std::chrono::milliseconds delay_{0};
  std::optional<Clock::time_point> restart_at_;
};

}  // namespace keeper_internal

int RunKeeper(const RouterOptions& options, bool take_over, int adopt_worker) {
  using namespace keeper_internal;
  CpuLimits limits = ReadCpuLimits();
  int threads = WorkerCount(options.threads, limits);
  if (options.threads <= 0) {
    std::string quota = limits.quota ? std::to_string(*limits.quota) : "none";
    KeeperLog(std::to_string(threads) + " worker thread(s): " + std::to_string(limits.affinity) +
              " CPU(s) in the affinity mask, cgroup CPU quota " + quota +
              " (--threads N to choose)");
  }
  Keeper keeper(options, threads);
  return keeper.Run(take_over, adopt_worker);
}

}  // namespace lastgood
