#include "targets/local/launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace lastgood {
namespace {

constexpr const char* kBasePath = "/usr/local/bin:/usr/bin:/bin";

// Where the child failed; sent to the parent through the CLOEXEC pipe with errno.
enum ChildStage : int { kStageSetsid = 1, kStageCwd, kStageOutLog, kStageErrLog, kStageExec };
struct ChildFailure {
  int stage;
  int err;
};

// Plain pointers only: the child must not allocate.
struct ChildArgs {
  const char* exec_path;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: stay where we are
  const char* out_log;
  const char* err_log;
  int report_fd;
  int max_fd;
};

std::string Expand(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    auto it = vars.find(text.substr(open + 2, close - open - 2));
    if (it != vars.end()) {
      out += it->second;
    } else {
      out.append(text, open, close - open + 1);
    }
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Only async-signal-safe calls from here on: we are the child of a possibly threaded parent.
[[noreturn]] void ExecChild(const ChildArgs& a) {
  auto fail = [&a](int stage) {
    ChildFailure f{stage, errno};
    ssize_t ignored = write(a.report_fd, &f, sizeof f);
    (void)ignored;
    _exit(127);
  };
  if (setsid() < 0) fail(kStageSetsid);
  if (a.cwd != nullptr && chdir(a.cwd) < 0) fail(kStageCwd);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(a.out_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out < 0) fail(kStageOutLog);
  int err = open(a.err_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (err < 0) fail(kStageErrLog);
  const int wanted[3] = {in, out, err};
  for (int target = 0; target < 3; ++target) {
    if (wanted[target] < 0) continue;
    if (wanted[target] == target) {
      fcntl(target, F_SETFD, 0);  // dup2 onto itself would keep CLOEXEC
    } else {
      dup2(wanted[target], target);
    }
  }
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // KILL/STOP just fail
  if (close_range(3, a.report_fd - 1, 0) != 0 || close_range(a.report_fd + 1, ~0U, 0) != 0) {
    for (int fd = 3; fd < a.max_fd; ++fd) {
      if (fd != a.report_fd) close(fd);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(a.exec_path, a.argv, a.envp);
  fail(kStageExec);
  _exit(127);  // unreachable
}

}  // namespace

Result<LaunchPlan> PlanLaunch(const InstanceSpec& spec, int port) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Error::InvalidInput("run.command is empty", "run.command");
  }
  std::map<std::string, std::string> vars{{"PORT", std::to_string(port)}};
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      return Error::InvalidInput("environment variable name '" + name + "' is not valid",
                                 "run.env");
    }
    vars[name] = value;
  }

  // Later entries replace earlier ones of the same name, keeping the first position.
  std::vector<std::pair<std::string, std::string>> env;
  auto set = [&env](const std::string& name, const std::string& value) {
    for (auto& [n, v] : env) {
      if (n == name) {
        v = value;
        return;
      }
    }
    env.emplace_back(name, value);
  };
  const char* home = std::getenv("HOME");
  set("PATH", kBasePath);
  set("HOME", home != nullptr && *home != '\0' ? home : "/");
  set("LANG", "C.UTF-8");
  set("PORT", std::to_string(port));
  for (const auto& [name, value] : spec.env) set(name, Expand(value, vars));
  set("LASTGOOD_INSTANCE", spec.id);

  LaunchPlan plan;
  plan.argv0 = spec.argv[0];
  for (size_t i = 0; i < spec.argv.size(); ++i) {
    if (spec.argv[i].find('\0') != std::string::npos) {
      return Error::InvalidInput("run.command[" + std::to_string(i) + "] contains a NUL byte",
                                 "run.command");
    }
    plan.argv.push_back(Expand(spec.argv[i], vars));
  }
  std::string path_var;
  for (const auto& [name, value] : env) {
    plan.envp.push_back(name + "=" + value);
    if (name == "PATH") path_var = value;
  }
  plan.cwd = spec.cwd;
  std::string log_dir = spec.logDir.empty() ? "." : spec.logDir;
  plan.out_log = JoinPath(log_dir, spec.id + ".out.log");
  plan.err_log = JoinPath(log_dir, spec.id + ".err.log");

  const std::string& arg0 = plan.argv[0];
  if (arg0.find('/') != std::string::npos) {
    plan.exec_path = arg0;  // relative to cwd: the child chdirs before execve
    return plan;
  }
  std::stringstream dirs(path_var);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) dir = ".";
    std::string candidate = JoinPath(dir, arg0);
    std::string from_here =
        candidate[0] == '/' || plan.cwd.empty() ? candidate : JoinPath(plan.cwd, candidate);
    if (IsExecutableFile(from_here)) {
      plan.exec_path = candidate;
      return plan;
    }
  }
  return Error::Failed("run.command[0] '" + plan.argv0 + "': " + strerror(ENOENT) +
                       " (searched PATH=" + path_var + ")");
}

Result<int> SpawnInstance(const LaunchPlan& plan) {
  std::vector<char*> argv, envp;
  for (const auto& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : plan.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Error::Internal(std::string("pipe: ") + strerror(errno));
  // Keep the report pipe above 0-2 so the child's dup2 onto stdio cannot clobber it.
  for (int& fd : fds) {
    if (fd < 3) {
      int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
      close(fd);
      fd = moved;
    }
  }
  struct rlimit rl;
  int max_fd = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    max_fd = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 20));
  }
  ChildArgs args{plan.exec_path.c_str(),
                 argv.data(),
                 envp.data(),
                 plan.cwd.empty() ? nullptr : plan.cwd.c_str(),
                 plan.out_log.c_str(),
                 plan.err_log.c_str(),
                 fds[1],
                 max_fd};

  // Block signals across fork so no handler of ours runs in the child before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) ExecChild(args);
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return Error::Internal(std::string("fork: ") + strerror(fork_errno));
  }

  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(fds[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == 0) return static_cast<int>(pid);  // the pipe closed on a successful execve

  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof failure)) {
    return Error::Failed("run.command[0] '" + plan.argv0 + "': the process failed to start");
  }
  std::string why = strerror(failure.err);
  switch (failure.stage) {
    case kStageCwd:
      return Error::Failed("cwd '" + plan.cwd + "': " + why);
    case kStageOutLog:
      return Error::Failed("log file '" + plan.out_log + "': " + why);
    case kStageErrLog:
      return Error::Failed("log file '" + plan.err_log + "': " + why);
    case kStageSetsid:
      return Error::Internal("setsid: " + why);
    default:
      return Error::Failed("run.command[0] '" + plan.argv0 + "': " + why);
  }
}

ProcessState ReadProcessState(int pid) {
  ProcessState state;
  if (pid <= 0) return state;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return state;
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return state;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int index = 3; index <= 22 && (fields >> field); ++index) {
    if (index == 3) state.zombie = field == "Z" || field == "X";
    if (index == 22) state.start_time = std::strtoull(field.c_str(), nullptr, 10);
  }
  return state;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

}  // namespace lastgood
