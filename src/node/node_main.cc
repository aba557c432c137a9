#include "node/node_main.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "api/instance_logs.h"
#include "api/router_process.h"
#include "api/server.h"
#include "artifacts/artifact_store.h"
#include "base/clock.h"
#include "base/fd.h"
#include "base/version.h"
#include "node/node.h"
#include "targets/local/local_target.h"

namespace lastgood {
namespace {

constexpr const char* kUsage =
    "usage: lastgood node [--home DIR] [--detach]\n"
    "       lastgood node [--home DIR] --receive-artifact DIGEST [--executable] < FILE\n"
    "  --home DIR      the node's state (default /var/lib/lastgood-node for root, else\n"
    "                  $XDG_STATE_HOME/lastgood-node or ~/.local/state/lastgood-node)\n"
    "  --detach        run in the background (own session, output to DIR/logs/node.log);\n"
    "                  returns once the node serves DIR/node.sock\n"
    "  --receive-artifact DIGEST  store the file on stdin as an artifact, only if its\n"
    "                  sha256 is DIGEST\n";

constexpr int kTickMillis = 500;

void Log(const std::string& line) { std::fprintf(stderr, "lastgood node: %s\n", line.c_str()); }

std::string DefaultHome() {
  if (::geteuid() == 0) return kRootNodeHome;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x)
    return std::string(x) + "/lastgood-node";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/state/lastgood-node";
}

std::string SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "lastgood" : p.string();
}

// Stores stdin as an artifact when its digest is `digest`; exit code as in node_main.h.
int ReceiveArtifact(const std::string& home, const std::string& digest, bool executable) {
  if (digest.rfind("sha256:", 0) != 0 || digest.size() != 7 + 64) {
    Log("'" + digest + "' is not a digest (sha256:<64 hex digits>)");
    return 2;
  }
  ArtifactStore store(home + "/artifacts", home + "/releases");
  if (store.Has(digest)) return 0;
  const std::string tmp = home + "/artifacts/.incoming-" + std::to_string(::getpid());
  {
    Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0700 : 0600));
    if (out.get() < 0) {
      Log("cannot write " + tmp + ": " + std::strerror(errno));
      return 5;
    }
    char buf[1 << 16];
    uint64_t total = 0;
    for (;;) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Log(std::string("cannot read the artifact: ") + std::strerror(errno));
        ::unlink(tmp.c_str());
        return 5;
      }
      if (n == 0) break;
      total += static_cast<uint64_t>(n);
      if (total > kMaxArtifactBytes || ::write(out.get(), buf, static_cast<size_t>(n)) != n) {
        Log(total > kMaxArtifactBytes ? "the artifact is larger than the limit"
                                      : std::string("cannot write ") + tmp);
        ::unlink(tmp.c_str());
        return total > kMaxArtifactBytes ? 2 : 5;
      }
    }
  }
  // The digest is checked before the file enters the store: nothing unpacked on a host was
  // not checked (docs/fleets.md).
  auto got = Sha256File(tmp);
  if (!got.ok() || *got != digest) {
    Log("the artifact received has digest " + (got.ok() ? *got : got.error().message) + ", not " +
        digest + "; refused");
    ::unlink(tmp.c_str());
    return 2;
  }
  auto put = store.Put(tmp);
  ::unlink(tmp.c_str());
  if (!put.ok()) {
    Log(put.error().message);
    return 5;
  }
  return 0;
}

// Forks; the parent waits until the child reports (a line on a pipe) and exits with the
// child's code. Returns in the child, in its own session, with `*ready_fd` to report on.
int Detach(const std::string& log_path, int* ready_fd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 5;
  pid_t pid = ::fork();
  if (pid < 0) return 5;
  if (pid > 0) {
    ::close(fds[1]);
    char code = 5;
    ssize_t n;
    while ((n = ::read(fds[0], &code, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) {
      std::fprintf(stderr, "lastgood node: the node exited at start; see %s\n", log_path.c_str());
      std::exit(5);
    }
    std::exit(code);
  }
  ::close(fds[0]);
  ::setsid();
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (devnull >= 0) ::dup2(devnull, 0);
  if (log >= 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
  }
  *ready_fd = fds[1];
  return 0;
}

void Report(int* ready_fd, char code) {
  if (*ready_fd < 0) return;
  (void)!::write(*ready_fd, &code, 1);
  ::close(*ready_fd);
  *ready_fd = -1;
}

}  // namespace

int NodeMain(int argc, char** argv) {
  std::string home = DefaultHome(), digest;
  bool detach = false, executable = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (flag == "--detach") {
      detach = true;
    } else if (flag == "--executable") {
      executable = true;
    } else if ((flag == "--home" && value(&home)) ||
               (flag == "--receive-artifact" && value(&digest))) {
    } else {
      std::fprintf(stderr, "lastgood node: unknown or incomplete argument '%s'\n%s", argv[i],
                   kUsage);
      return 2;
    }
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  home = fs::absolute(home, ec).lexically_normal().string();
  if (home.size() > 1 && home.back() == '/') home.pop_back();
  fs::create_directories(home, ec);
  fs::permissions(home, fs::perms::owner_all, ec);
  for (const char* sub : {"artifacts", "releases", "logs"})
    fs::create_directories(home + "/" + sub, ec);
  if (!fs::is_directory(home)) {
    Log("cannot make the home " + home);
    return 5;
  }
  if (!digest.empty()) return ReceiveArtifact(home, digest, executable);

  int ready_fd = -1;
  if (detach) {
    if (int rc = Detach(home + "/logs/node.log", &ready_fd); rc != 0) return rc;
  }
  Fd lock(::open((home + "/node.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0 || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    Log("another node is running with home " + home);
    Report(&ready_fd, 3);
    return 3;
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto target = NewLocalTarget(home + "/releases");
  auto control = NewRouterControlClient(home + "/router.sock");
  RouterProcess router(SelfExe(), home, control.get());
  router.SetLogName("lastgood node");
  bool started = false;
  if (auto s = router.Ensure(&started); !s.ok()) {
    Log(s.error().message);
    Report(&ready_fd, 5);
    return 5;
  }
  Log(started ? "started the router" : "the router was running; it keeps its table");
  // POST /v1/node/stop (an upgrade): the signal thread stops the server, as on SIGTERM.
  NodeOptions node_options;
  node_options.home = home;
  node_options.version = ThisBuild().version;  // `lastgood hosts` shows it (NODE VERSION)
  node_options.stop = [] { ::kill(::getpid(), SIGTERM); };
  node_options.log = Log;
  // Deployed code is confined on a host as on the controller's machine (docs/security.md):
  // decided once, from what the kernel lets the node do.
  ConfinementOptions confine_options;
  confine_options.home = home;
  confine_options.node = true;
  std::unique_ptr<Confinement> confinement = Confinement::Detect(confine_options);
  Log(std::string(confinement->kind() == Sandbox::Kind::kNone ? "WARNING: " : "") +
      "confinement of deployed code: " + confinement->Describe());
  node_options.confinement = confinement.get();
  Node node(node_options, target.get(), &router);
  auto recovered = node.Recover();
  if (!recovered.ok()) {
    Log(recovered.error().message);
    Report(&ready_fd, 5);
    return 5;
  }
  for (const auto& line : *recovered) Log(line);

  ApiServer server([&node](const ApiRequest& r) { return node.Handle(r); });
  if (auto s = server.Listen(home + "/node.sock"); !s.ok()) {
    Log(s.error().message);
    Report(&ready_fd, 5);
    return 5;
  }
  Log("node pid " + std::to_string(::getpid()) + " serving " + home + "/node.sock");
  Report(&ready_fd, 0);
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    Log(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
        "; the router and the instances go on");
    server.Stop();
  });
  std::atomic<bool> stopping{false};
  std::thread upkeep([&] {
    // When the instances' log files grew, so that `lastgood logs --since` reads this host's
    // output as it reads the controller's (api/instance_logs.h).
    std::map<std::string, uint64_t> log_sizes;
    int64_t last_log_sample = 0;
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kTickMillis));
      if (stopping) break;
      bool restarted = false;
      if (auto s = router.Ensure(&restarted); !s.ok()) Log(s.error().message);
      if (restarted) Log("the router was not running; started it again (it restores its table)");
      int64_t now = Clock::Real()->NowMillis();
      if (now - last_log_sample >= kLogSampleMillis) {
        last_log_sample = now;
        SampleLogSizesIn(home + "/logs", now, &log_sizes);
      }
    }
  });
  server.Run();
  signals.join();
  stopping = true;
  upkeep.join();
  target->Detach();
  Log("stopped");
  return 0;
}

}  // namespace lastgood
