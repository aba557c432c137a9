// Spawn: clone(CLONE_VM | CLONE_VFORK), as posix_spawn does, so that starting a program
// costs no copy of the controller's page tables; the child runs on a stack of its own and
// reports a failure through the memory it shares with the suspended parent.
#include "process/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/fd.h"
#include "process/sandbox_init.h"

namespace lastgood {
namespace {

constexpr size_t kChildStackBytes = 256 << 10;

// Plain pointers and ints only: the child must not allocate or take a lock.
struct ChildArgs {
  const char* exec_path;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: stay where we are
  Stdio::Kind kinds[3];
  int fds[3];
  const char* paths[3];
  SpawnSpec::Detach detach;
  int max_fd;
  // Confined: the child maps its user (userns), keeps the spec at 3 and the report pipe at
  // 4, and execs the init instead of the program.
  bool sandboxed;
  bool userns;
  const char* uid_map;  // "0 <uid> 1\n"
  const char* gid_map;
  int spec_fd;
  int report_fd;
  char* const* init_argv;
  // Written by the child, read by the parent once the child has exec'd or exited.
  SpawnStage stage;
  int err;
};

[[noreturn]] void Fail(ChildArgs* a, SpawnStage stage) {
  a->stage = stage;
  a->err = errno;
  _exit(127);
}

// Only async-signal-safe calls from here on: the child shares the parent's memory.
int ChildMain(void* p) {
  auto* a = static_cast<ChildArgs*>(p);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // KILL/STOP just fail
  if (a->detach == SpawnSpec::Detach::kSession && setsid() < 0) Fail(a, SpawnStage::kSetup);
  if (a->detach == SpawnSpec::Detach::kGroup && setpgid(0, 0) < 0) Fail(a, SpawnStage::kSetup);
  if (a->sandboxed && a->userns) {
    const char* files[3] = {"/proc/self/setgroups", "/proc/self/uid_map", "/proc/self/gid_map"};
    const char* texts[3] = {"deny", a->uid_map, a->gid_map};
    for (int i = 0; i < 3; ++i) {
      int fd = open(files[i], O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, texts[i], strlen(texts[i])) < 0) Fail(a, SpawnStage::kSetup);
      close(fd);
    }
  }
  if (a->cwd != nullptr && chdir(a->cwd) < 0) Fail(a, SpawnStage::kCwd);

  // Every source lands at 3 or above first, so one dup2 cannot clobber another's source.
  const SpawnStage stages[3] = {SpawnStage::kStdin, SpawnStage::kStdout, SpawnStage::kStderr};
  int sources[3] = {-1, -1, -1};
  for (int i = 0; i < 3; ++i) {
    int fd = -1;
    switch (a->kinds[i]) {
      case Stdio::Kind::kInherit:
        continue;
      case Stdio::Kind::kNull:
        fd = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        break;
      case Stdio::Kind::kAppendFile:
        fd = open(a->paths[i], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        break;
      case Stdio::Kind::kFd:
        fd = a->fds[i];
        break;
    }
    if (fd < 0) Fail(a, stages[i]);
    sources[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (sources[i] < 0) Fail(a, stages[i]);
    if (a->kinds[i] != Stdio::Kind::kFd) close(fd);
  }
  for (int i = 0; i < 3; ++i) {
    if (sources[i] >= 0 && dup2(sources[i], i) < 0) Fail(a, stages[i]);
  }
  int first_closed = 3;
  if (a->sandboxed) {
    int spec = fcntl(a->spec_fd, F_DUPFD_CLOEXEC, 10);
    int report = fcntl(a->report_fd, F_DUPFD_CLOEXEC, 10);
    if (spec < 0 || report < 0 || dup2(spec, kSandboxSpecFd) < 0 ||
        dup2(report, kSandboxReportFd) < 0) {
      Fail(a, SpawnStage::kSetup);
    }
    first_closed = kSandboxReportFd + 1;
  }
  if (close_range(first_closed, ~0U, 0) != 0) {
    for (int fd = first_closed; fd < a->max_fd; ++fd) close(fd);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (a->sandboxed) {
    execve("/proc/self/exe", a->init_argv, a->envp);
  } else {
    execve(a->exec_path, a->argv, a->envp);
  }
  Fail(a, SpawnStage::kExec);
}

std::string Describe(const SpawnSpec& spec, SpawnStage stage, int err, const std::string& what) {
  std::string why = strerror(err);
  const Stdio* stdio[3] = {&spec.in, &spec.out, &spec.err};
  auto file = [&](int i) {
    return stdio[i]->kind == Stdio::Kind::kAppendFile ? "log file '" + stdio[i]->path + "': "
                                                      : "descriptor " + std::to_string(i) + ": ";
  };
  switch (stage) {
    case SpawnStage::kCwd:
      return "cwd '" + spec.cwd + "': " + why;
    case SpawnStage::kStdin:
      return file(0) + why;
    case SpawnStage::kStdout:
      return file(1) + why;
    case SpawnStage::kStderr:
      return file(2) + why;
    case SpawnStage::kSetup:
      return (what.empty() ? "setting up the process" : "confining it: " + what) + ": " + why;
    default:
      return "'" + (spec.argv.empty() ? spec.exec_path : spec.argv[0]) + "': " + why;
  }
}

}  // namespace

Result<int> Spawn(const SpawnSpec& spec, SpawnFailure* failure) {
  if (spec.argv.empty() || spec.exec_path.empty()) {
    return Error::InvalidInput("nothing to run: the command is empty");
  }
  std::vector<char*> argv, envp;
  for (const auto& s : spec.argv) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  for (const auto& s : spec.env) envp.push_back(const_cast<char*>(s.c_str()));
  envp.push_back(nullptr);

  ChildArgs args{};
  args.exec_path = spec.exec_path.c_str();
  args.argv = argv.data();
  args.envp = envp.data();
  args.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  const Stdio* stdio[3] = {&spec.in, &spec.out, &spec.err};
  for (int i = 0; i < 3; ++i) {
    args.kinds[i] = stdio[i]->kind;
    args.fds[i] = stdio[i]->fd;
    args.paths[i] = stdio[i]->path.c_str();
  }
  args.detach = spec.detach;
  struct rlimit rl;
  args.max_fd = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    args.max_fd = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 20));
  }
  int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;

  // Confined: the init reads what to run from a memfd and reports through a pipe.
  const Sandbox& box = spec.sandbox;
  Fd spec_fd, report_read, report_write;
  std::string uid_map = "0 " + std::to_string(box.uid) + " 1\n";
  std::string gid_map = "0 " + std::to_string(box.gid) + " 1\n";
  std::string init_label = box.label.empty() ? spec.argv[0] : box.label;
  std::vector<std::string> init_args = {"lastgood-sandbox", kSandboxInitFlag, init_label};
  std::vector<char*> init_argv;
  if (box.confined()) {
    std::string bytes = EncodeSandboxLaunch({box, spec.exec_path, spec.argv, spec.env, spec.cwd});
    spec_fd = Fd(memfd_create("lastgood-sandbox", MFD_CLOEXEC));
    if (spec_fd.get() < 0) return Error::Internal(std::string("memfd: ") + strerror(errno));
    for (size_t done = 0; done < bytes.size();) {
      ssize_t n = write(spec_fd.get(), bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error::Internal(std::string("memfd: ") + strerror(errno));
      done += static_cast<size_t>(n);
    }
    lseek(spec_fd.get(), 0, SEEK_SET);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return Error::Internal(std::string("pipe: ") + strerror(errno));
    }
    report_read = Fd(pipe_fds[0]);
    report_write = Fd(pipe_fds[1]);
    for (auto& a : init_args) init_argv.push_back(a.data());
    init_argv.push_back(nullptr);
    args.sandboxed = true;
    args.userns = box.kind == Sandbox::Kind::kUserNamespace;
    args.uid_map = uid_map.c_str();
    args.gid_map = gid_map.c_str();
    args.spec_fd = spec_fd.get();
    args.report_fd = report_write.get();
    args.init_argv = init_argv.data();
    args.cwd = nullptr;  // the init changes directory once its mounts are made
    args.detach = SpawnSpec::Detach::kSession;
    flags |= CLONE_NEWPID | CLONE_NEWNS | (args.userns ? CLONE_NEWUSER : 0);
  }

  void* stack = mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return Error::Internal(std::string("mmap: ") + strerror(errno));
  // Block signals across the clone so that no handler of ours runs in the child, which
  // shares our memory, before it has reset them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pid = clone(ChildMain, static_cast<char*>(stack) + kChildStackBytes, flags, &args);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  munmap(stack, kChildStackBytes);
  if (pid < 0) {
    std::string what = box.confined() ? "confining it: new namespaces: " : "clone: ";
    return Error::Failed(what + strerror(clone_errno));
  }
  std::string what;
  if (args.stage == SpawnStage::kNone && box.confined()) {
    report_write = Fd();
    SandboxReport report{};
    pollfd p{report_read.get(), POLLIN, 0};
    int ready;
    do {
      ready = poll(&p, 1, kSandboxStartTimeoutMillis);
    } while (ready < 0 && errno == EINTR);
    ssize_t n = ready > 0 ? read(report_read.get(), &report, sizeof report) : -1;
    if (ready == 0) {
      kill(pid, SIGKILL);
      args.stage = SpawnStage::kSetup;
      args.err = ETIMEDOUT;
      what = "its init did not start the program in time";
    } else if (n > 0) {
      args.stage = static_cast<SpawnStage>(report.stage);
      args.err = report.err;
      report.what[sizeof report.what - 1] = '\0';
      what = report.what;
    }
  }
  if (args.stage == SpawnStage::kNone) return pid;

  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (failure != nullptr) *failure = {args.stage, args.err};
  std::string message = Describe(spec, args.stage, args.err, what);
  if (args.stage == SpawnStage::kSetup) return Error::Internal(message);
  return Error::Failed(message);
}

}  // namespace lastgood
