#include "targets/remote/ssh.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/duration.h"
#include "base/fd.h"
#include "process/path.h"
#include "process/spawn.h"

extern char** environ;

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr size_t kMaxOutput = 64 * 1024;
constexpr Millis kPoll{20};

// Starts `argv` (argv[0] looked up on the controller's PATH) with stdin from `in` ("" =
// /dev/null) and stdout/stderr to `out` (truncated), in a process group of its own, with the
// controller's environment (ssh needs HOME, SSH_AUTH_SOCK). Returns the pid, or -errno.
int SpawnSsh(const std::vector<std::string>& argv, const std::string& in, const std::string& out) {
  const char* path = std::getenv("PATH");
  auto exec = ResolveCommand(argv[0], path ? path : kDefaultPath, "");
  if (!exec) return -ENOENT;
  Fd in_fd(::open(in.empty() ? "/dev/null" : in.c_str(), O_RDONLY | O_CLOEXEC));
  Fd out_fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (in_fd.get() < 0 || out_fd.get() < 0) return -errno;
  SpawnSpec spec;
  spec.exec_path = *exec;
  spec.argv = argv;
  for (char** e = environ; *e; ++e) spec.env.emplace_back(*e);
  spec.in = Stdio::Fd(in_fd.get());
  spec.out = Stdio::Fd(out_fd.get());
  spec.err = Stdio::Fd(out_fd.get());
  spec.detach = SpawnSpec::Detach::kGroup;
  SpawnFailure failure;
  auto pid = Spawn(spec, &failure);
  if (!pid.ok()) return -(failure.err != 0 ? failure.err : EINVAL);
  return *pid;
}

std::string ReadCapped(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string s(kMaxOutput, '\0');
  f.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<size_t>(f.gcount()));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Waits for `pid` up to `timeout`; kills its group after that. The exit code, or -1.
int WaitFor(int pid, Millis timeout) {
  auto deadline = SteadyClock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0 && errno != EINTR) return -1;
    if (SteadyClock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

void ConnectionPacer::Acquire() {
  std::unique_lock lock(mu_);
  free_.wait(lock, [&] { return active_ < limit_; });
  peak_ = std::max(peak_, ++active_);
}

void ConnectionPacer::Release() {
  std::lock_guard lock(mu_);
  --active_;
  free_.notify_one();
}

int ConnectionPacer::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}

std::string ShellQuote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string CommandAnswer(const std::string& output) {
  size_t end = output.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t start = output.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return output.substr(start, end + 1 - start);
}

SshLink::SshLink(SshSettings settings, std::string name, std::string destination,
                 ConnectionPacer* pacer)
    : settings_(std::move(settings)),
      name_(std::move(name)),
      destination_(std::move(destination)),
      pacer_(pacer) {}

SshLink::~SshLink() { Close(); }

std::string SshLink::ControlPath() const { return settings_.controlDir + "/" + name_ + ".ctl"; }
std::string SshLink::LocalSocket() const { return settings_.controlDir + "/" + name_ + ".sock"; }

std::vector<std::string> SshLink::Base() const {
  std::vector<std::string> argv = {"ssh"};
  if (!settings_.config.empty()) argv.insert(argv.end(), {"-F", settings_.config});
  argv.insert(argv.end(), {"-o", "BatchMode=yes", "-o", "ControlPath=" + ControlPath()});
  return argv;
}

bool SshLink::Up() {
  std::lock_guard lock(mu_);
  if (master_ <= 0) return false;
  int status = 0;
  if (::waitpid(master_, &status, WNOHANG) == master_) {
    master_ = 0;
    last_error_ = ReadCapped(settings_.controlDir + "/" + name_ + ".log");
    if (last_error_.empty()) last_error_ = "the ssh connection ended";
    return false;
  }
  return true;
}

std::string SshLink::LastError() {
  std::lock_guard lock(mu_);
  return last_error_;
}

Status SshLink::Connect(bool accept_new_host_key) {
  if (Up()) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(settings_.controlDir, ec);
  ::chmod(settings_.controlDir.c_str(), 0700);
  std::filesystem::remove(ControlPath(), ec);  // a stale one from a dead master
  auto argv = Base();
  argv.insert(
      argv.end(),
      {"-M", "-N", "-o", "ControlPersist=no", "-o", "ServerAliveInterval=2", "-o",
       "ServerAliveCountMax=3", "-o",
       std::string("StrictHostKeyChecking=") + (accept_new_host_key ? "accept-new" : "yes"), "-o",
       "StreamLocalBindUnlink=yes", "-o", "StreamLocalBindMask=0177", "--", destination_});
  const std::string log = settings_.controlDir + "/" + name_ + ".log";
  pacer_->Acquire();
  int pid = SpawnSsh(argv, "", log);
  if (pid < 0) {
    pacer_->Release();
    return Error::Unavailable("cannot run ssh: " + std::string(std::strerror(-pid)));
  }
  // The control socket appears once the master has authenticated.
  auto deadline = SteadyClock::now() + kSshConnectTimeout;
  std::string failure;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      failure = ReadCapped(log);
      if (failure.empty())
        failure = "ssh exited with status " + std::to_string(WEXITSTATUS(status));
      pid = 0;
      break;
    }
    if (std::filesystem::exists(ControlPath(), ec)) break;
    if (SteadyClock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      pid = 0;
      failure = "no answer within " + FormatDuration(kSshConnectTimeout);
      break;
    }
    std::this_thread::sleep_for(kPoll);
  }
  pacer_->Release();
  std::lock_guard lock(mu_);
  if (pid == 0) {
    last_error_ = failure;
    return Error::Unavailable("cannot reach host " + name_ + " (ssh " + destination_ +
                              "): " + failure);
  }
  master_ = pid;
  last_error_.clear();
  return Status::Ok();
}

Status SshLink::Forward(const std::string& remote_socket) {
  std::error_code ec;
  std::filesystem::remove(LocalSocket(), ec);
  auto argv = Base();
  argv.insert(argv.end(),
              {"-O", "forward", "-L", LocalSocket() + ":" + remote_socket, "--", destination_});
  const std::string out = settings_.controlDir + "/" + name_ + ".forward";
  int pid = SpawnSsh(argv, "", out);
  if (pid < 0) return Error::Unavailable("cannot run ssh: " + std::string(std::strerror(-pid)));
  int code = WaitFor(pid, Millis(10'000));
  std::string words = ReadCapped(out);
  std::filesystem::remove(out, ec);
  if (code != 0)
    return Error::Unavailable("cannot forward the node's socket of host " + name_ + ": " + words);
  return Status::Ok();
}

CommandResult SshLink::Run(const std::vector<std::string>& argv, const std::string& stdin_path,
                           Millis timeout) {
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + ShellQuote(a);
  auto ssh = Base();
  ssh.insert(ssh.end(), {"-o", "ControlMaster=no", "--", destination_, command});
  static std::atomic<int> serial{0};
  const std::string out = settings_.controlDir + "/" + name_ + ".run-" + std::to_string(++serial);
  CommandResult r;
  int pid = SpawnSsh(ssh, stdin_path, out);
  if (pid < 0) {
    r.output = "cannot run ssh: " + std::string(std::strerror(-pid));
    return r;
  }
  r.exitCode = WaitFor(pid, timeout);
  r.output = ReadCapped(out);
  if (r.exitCode < 0) r.output += (r.output.empty() ? "" : "\n") + std::string("(timed out)");
  std::error_code ec;
  std::filesystem::remove(out, ec);
  return r;
}

void SshLink::Close() {
  std::lock_guard lock(mu_);
  if (master_ <= 0) return;
  ::kill(master_, SIGTERM);
  WaitFor(master_, Millis(5'000));
  master_ = 0;
  std::error_code ec;
  std::filesystem::remove(LocalSocket(), ec);
  std::filesystem::remove(ControlPath(), ec);
}

}  // namespace lastgood
