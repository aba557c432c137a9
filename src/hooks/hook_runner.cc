// RunHook: Spawn into a new process group with stdout/stderr on the log file, then a wait
// on the Child's pidfd in kHookPollInterval slices so that the deadline and `interrupted`
// are both noticed within one slice.
#include "hooks/hook_runner.h"

#include <fcntl.h>
#include <sys/stat.h>
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

#include "base/clock.h"
#include "base/fd.h"
#include "process/child.h"
#include "process/path.h"
#include "process/spawn.h"

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;

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

std::vector<std::string> BuildEnv(const HookRun& run) {
  EnvBuilder env;
  env.Set("PATH", kDefaultPath);
  env.Set("LANG", "C.UTF-8");
  for (const char* name : kInheritedEnv) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') env.Set(name, v);
  }
  if (!run.sandbox.state_dir.empty()) {
    env.Set("HOME", run.sandbox.state_dir);
    env.Set("LASTGOOD_STATE_DIR", run.sandbox.state_dir);
  }
  for (const auto& [name, value] : run.env) env.Set(name, value);
  return env.Build();
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
  std::vector<std::string> env = BuildEnv(run);
  std::string path_var = EnvValue(env, "PATH");
  std::optional<std::string> exec_path = ResolveCommand(run.command[0], path_var, run.cwd);
  if (!exec_path) {
    return Error::Failed(run.name + ": '" + run.command[0] + "' was not found on PATH=" + path_var);
  }

  std::string argv_text;
  for (const auto& a : run.command) argv_text += " " + a;
  Append(log.get(), "--- " + FormatTimestamp(Clock::Real()->NowMillis()) + " " + run.name + ":" +
                        argv_text + "\n");
  off_t output_start = lseek(log.get(), 0, SEEK_END);

  SpawnSpec spawn;
  spawn.exec_path = *exec_path;
  spawn.argv = run.command;
  spawn.env = std::move(env);
  spawn.cwd = run.cwd;
  spawn.in = Stdio::Null();
  spawn.out = Stdio::Fd(log.get());
  spawn.err = Stdio::Fd(log.get());
  spawn.detach = SpawnSpec::Detach::kGroup;
  spawn.sandbox = run.sandbox;
  if (spawn.sandbox.label.empty()) spawn.sandbox.label = run.name;
  auto started = SteadyClock::now();
  SpawnFailure failure;
  Result<int> pid = Spawn(spawn, &failure);
  if (!pid.ok()) {
    std::string why = failure.err != 0 ? strerror(failure.err) : pid.error().message;
    std::string where = run.cwd.empty() ? "" : " in '" + run.cwd + "'";
    Append(log.get(), "--- " + run.name + " could not start: " + why + "\n");
    return Error::Failed(run.name + ": cannot run '" + run.command[0] + "'" + where + ": " + why);
  }

  HookOutcome out;
  out.name = run.name;
  out.timeout = run.timeout;
  Child child(*pid);
  auto deadline = started + run.timeout;
  while (!child.ExitedWithin(kHookPollInterval)) {
    if (SteadyClock::now() >= deadline) {
      out.timedOut = true;
    } else if (interrupted && interrupted()) {
      out.interrupted = true;
    } else {
      continue;
    }
    child.StopGroup(kHookKillGrace);
    break;
  }
  int status = child.Reap();
  out.took = std::chrono::duration_cast<Millis>(SteadyClock::now() - started);
  out.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.ok = !out.timedOut && !out.interrupted && WIFEXITED(status) && out.exitCode == 0;
  out.lastLine = LastLine(run.logPath, output_start);
  Append(log.get(), "--- " + out.Describe() + "\n");
  return out;
}

}  // namespace lastgood
