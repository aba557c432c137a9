// Process: a child process for end-to-end tests, started with posix_spawn (argv never passes
// through a shell), with its own environment, working directory and optional redirection of
// stdout/stderr to files. The destructor kills (SIGKILL) and reaps a child that still runs, so
// a failing test never leaks processes.
//
// Thread-safety: a Process is owned by one thread. Movable, not copyable.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace lastgood::testutil {

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is the executable's path (no PATH search)
  std::map<std::string, std::string> env;  // set or override on top of the test's environment
  std::vector<std::string> unset_env;      // removed from the inherited environment
  std::string cwd;                         // empty: the test's working directory
  std::string stdin_path;                  // empty: inherit; else read from this file
  std::string stdout_path;                 // empty: inherit; else truncate and write there
  std::string stderr_path;                 // likewise
};

// How a child ended: exited with `code`, or was killed by `signal`.
struct ExitStatus {
  int code = -1;   // exit code, or -1 when killed by a signal
  int signal = 0;  // the terminating signal, or 0 when it exited
  bool exited() const { return signal == 0; }
};

class Process {
 public:
  Process() = default;
  // Starts the child. On failure pid() is -1 and error() says why.
  explicit Process(const ProcessOptions& options) { Start(options); }
  ~Process() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int raw = 0;
      while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
      }
    }
  }
  Process(Process&& other) noexcept { *this = std::move(other); }
  Process& operator=(Process&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(status_, other.status_);
    std::swap(error_, other.error_);
    return *this;
  }

  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }

  // Sends `sig` to the child. Returns false once the child has been reaped (its pid may be
  // reused by then, so it is never signalled) or when kill(2) fails.
  bool Kill(int sig = SIGKILL) { return pid_ > 0 && !Reap() && ::kill(pid_, sig) == 0; }

  // Waits up to `timeout` for the child to end; nullopt if it still runs (or never started).
  std::optional<ExitStatus> Wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!Reap()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return status_;
  }

  // True while the child has not ended (does not block).
  bool Running() { return pid_ > 0 && !Reap(); }

 private:
  // Reaps the child if it has ended; returns true when its status is known.
  bool Reap() {
    if (status_) return true;
    int raw = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &raw, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r != pid_) return false;
    ExitStatus s;
    if (WIFEXITED(raw)) {
      s.code = WEXITSTATUS(raw);
    } else if (WIFSIGNALED(raw)) {
      s.signal = WTERMSIG(raw);
    }
    status_ = s;
    return true;
  }

  void Start(const ProcessOptions& options) {
    if (options.argv.empty()) {
      error_ = "empty argv";
      return;
    }
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry = *e;
      std::string name = entry.substr(0, entry.find('='));
      bool dropped = options.env.count(name) > 0;
      for (const auto& unset : options.unset_env) dropped = dropped || unset == name;
      if (!dropped) env_strings.push_back(std::move(entry));
    }
    for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
    std::vector<char*> argv, envp;
    for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    int flags = O_WRONLY | O_CREAT | O_TRUNC;  // no O_CLOEXEC: the child must keep them
    if (!options.stdin_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 0, options.stdin_path.c_str(), O_RDONLY, 0);
    }
    if (!options.stdout_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 1, options.stdout_path.c_str(), flags, 0644);
    }
    if (!options.stderr_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 2, options.stderr_path.c_str(), flags, 0644);
    }
    // The child must not inherit the test's blocked signals or it may ignore SIGTERM.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all_default;
    sigemptyset(&none);
    sigemptyset(&all_default);
    sigaddset(&all_default, SIGTERM);
    sigaddset(&all_default, SIGINT);
    sigaddset(&all_default, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all_default);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      error_ = "posix_spawn " + options.argv[0] + ": " + std::strerror(rc);
      return;
    }
    pid_ = pid;
  }

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  std::string error_;
};

// The whole content of a file, or "" when it cannot be read (e.g. a child's log).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace lastgood::testutil
