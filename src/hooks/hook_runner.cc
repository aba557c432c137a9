// RunHook: posix_spawn into a new process group with stdout/stderr on the log file, then a
// wait on a pidfd in kHookPollInterval slices so that the deadline and `interrupted` are
// both noticed within one slice.
#include "hooks/hook_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/fd.h"

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
// Passed on from the controller's environment; nothing else is, so that the controller's
// own secrets (API tokens, webhook keys) never reach a hook.
constexpr const char* kInheritedEnv[] = {"PATH", "HOME", "LANG", "TZ", "TMPDIR", "USER", "LOGNAME"};
constexpr size_t kMaxLastLineBytes = 200;
constexpr size_t kTailBytes = 4096;

// "0.3s", "1.2s", "60s": one decimal below 10 s, whole seconds above.
std::string Seconds(Millis d) {
  char buf[32];
  double s = static_cast<double>(d.count()) / 1000.0;
  if (d < Millis(10'000)) {
    snprintf(buf, sizeof buf, "%.1fs", s);
  } else {
    snprintf(buf, sizeof buf, "%llds", static_cast<long long>((d.count() + 500) / 1000));
  }
  return buf;
}

std::vector<std::string> BuildEnv(const HookRun& run, std::string* path_var) {
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
  set("PATH", kDefaultPath);
  set("LANG", "C.UTF-8");
  for (const char* name : kInheritedEnv) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') set(name, v);
  }
  for (const auto& [name, value] : run.env) set(name, value);
  std::vector<std::string> out;
  for (const auto& [name, value] : env) {
    out.push_back(name + "=" + value);
    if (name == "PATH") *path_var = value;
  }
  return out;
}

// argv[0] as execve needs it: with a '/' as written (the child chdirs first); a bare name
// looked up on the hook's own PATH, relative entries taken from cwd.
std::optional<std::string> Resolve(const std::string& arg0, const std::string& path_var,
                                   const std::string& cwd) {
  if (arg0.find('/') != std::string::npos) return arg0;
  std::stringstream dirs(path_var);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + arg0;
    std::string here = candidate[0] == '/' || cwd.empty() ? candidate : cwd + "/" + candidate;
    struct stat st;
    if (stat(here.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(here.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

// The log opened for appending, at fd 3 or above: a controller started with stdio closed
// would otherwise get fd 0-2, which the child's stdio setup overwrites.
int OpenLog(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || fd >= 3) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int err = errno;
  close(fd);
  errno = err;
  return moved;
}

void Append(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the log is a convenience; a full disk must not fail the hook
    done += static_cast<size_t>(n);
  }
}

// The last non-empty line written to the log after `from`, cleaned for a one-line record.
std::string LastLine(const std::string& path, off_t from) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (fd.get() < 0 || fstat(fd.get(), &st) != 0 || st.st_size <= from) return "";
  off_t start = std::max<off_t>(from, st.st_size - static_cast<off_t>(kTailBytes));
  std::string tail(static_cast<size_t>(st.st_size - start), '\0');
  ssize_t n = pread(fd.get(), tail.data(), tail.size(), start);
  tail.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!tail.empty() && std::isspace(static_cast<unsigned char>(tail.back()))) tail.pop_back();
  std::string line =
      tail.substr(tail.find_last_of('\n') == std::string::npos ? 0 : tail.find_last_of('\n') + 1);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (line.size() > kMaxLastLineBytes) {
    size_t cut = kMaxLastLineBytes;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line = line.substr(0, cut) + "…";
  }
  return line;
}

// Waits up to `slice` for the child to exit, without reaping it (the unreaped child keeps
// its process group id from being reused while we may still signal the group).
bool ExitedWithin(int pid, int pidfd, Millis slice) {
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(slice.count()));  // readable once it exited; EINTR: ask again
  } else {
    std::this_thread::sleep_for(std::min(slice, Millis(10)));
  }
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// SIGTERM to the group; SIGKILL to what is left of it after kHookKillGrace.
void StopGroup(int pid, int pidfd) {
  kill(-pid, SIGTERM);
  auto give_up = SteadyClock::now() + kHookKillGrace;
  while (SteadyClock::now() < give_up) {
    if (ExitedWithin(pid, pidfd, Millis(20))) break;
  }
  kill(-pid, SIGKILL);
}

}  // namespace

std::string HookOutcome::Describe() const {
  std::string tail = lastLine.empty() ? "" : ": " + lastLine;
  if (ok) return name + " ok (" + Seconds(took) + ")";
  if (timedOut) return name + " timed out after " + Seconds(timeout) + tail;
  if (interrupted) return name + " interrupted after " + Seconds(took);
  if (exitCode > 128) {
    return name + " killed by signal " + std::to_string(exitCode - 128) + " after " +
           Seconds(took) + tail;
  }
  return name + " exited " + std::to_string(exitCode) + " after " + Seconds(took) + tail;
}

Result<HookOutcome> RunHook(const HookRun& run, const std::function<bool()>& interrupted) {
  if (run.command.empty() || run.command[0].empty()) {
    return Error::InvalidInput(run.name + " has no command", "hooks." + run.name + ".command");
  }
  for (const auto& [name, value] : run.env) {
    if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return Error::InvalidInput(run.name + ": environment variable '" + name + "' is not valid");
    }
  }
  std::error_code ec;
  auto log_dir = std::filesystem::path(run.logPath).parent_path();
  if (!log_dir.empty()) std::filesystem::create_directories(log_dir, ec);
  Fd log(OpenLog(run.logPath));
  if (log.get() < 0) {
    return Error::Failed(run.name + ": cannot open its log '" + run.logPath +
                         "': " + strerror(errno));
  }
  std::string path_var;
  std::vector<std::string> env = BuildEnv(run, &path_var);
  std::optional<std::string> exec_path = Resolve(run.command[0], path_var, run.cwd);
  if (!exec_path) {
    return Error::Failed(run.name + ": '" + run.command[0] + "' was not found on PATH=" + path_var);
  }

  std::string argv_text;
  for (const auto& a : run.command) argv_text += " " + a;
  Append(log.get(), "--- " + FormatTimestamp(Clock::Real()->NowMillis()) + " " + run.name + ":" +
                        argv_text + "\n");
  off_t output_start = lseek(log.get(), 0, SEEK_END);

  std::vector<char*> argv, envp;
  for (const auto& a : run.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, log.get(), 2);
  if (!run.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, run.cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  auto started = SteadyClock::now();
  pid_t pid = 0;
  int err = posix_spawn(&pid, exec_path->c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    std::string where = run.cwd.empty() ? "" : " in '" + run.cwd + "'";
    Append(log.get(), "--- " + run.name + " could not start: " + strerror(err) + "\n");
    return Error::Failed(run.name + ": cannot run '" + run.command[0] + "'" + where + ": " +
                         strerror(err));
  }

  HookOutcome out;
  out.name = run.name;
  out.timeout = run.timeout;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  Fd pidfd_owner(pidfd);
  auto deadline = started + run.timeout;
  while (!ExitedWithin(pid, pidfd, kHookPollInterval)) {
    if (SteadyClock::now() >= deadline) {
      out.timedOut = true;
    } else if (interrupted && interrupted()) {
      out.interrupted = true;
    } else {
      continue;
    }
    StopGroup(pid, pidfd);
    break;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.took = std::chrono::duration_cast<Millis>(SteadyClock::now() - started);
  out.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.ok = !out.timedOut && !out.interrupted && WIFEXITED(status) && out.exitCode == 0;
  out.lastLine = LastLine(run.logPath, output_start);
  Append(log.get(), "--- " + out.Describe() + "\n");
  return out;
}

}  // namespace lastgood
