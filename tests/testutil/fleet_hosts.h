// FleetHosts: N test hosts for a fleet scenario, each a network namespace with Debian's real
// sshd, made by tests/fleet/hosts (read its header for what it creates). The constructor brings
// them up in a temporary folder; the destructor takes them down by name and PID — also when
// the test failed — and removes the folder.
//
//   FleetHosts hosts(3);                 // h1..h3 on 10.231.NET.11..13
//   ASSERT_TRUE(hosts.ok()) << hosts.error();
//   hosts.Ssh(2, {"true"});              // exit code of `ssh -F <config> h2 true`
//   hosts.Cut(2); hosts.Mend(2);         // the link down and up again
//
// NET (the /24 the hosts live in) is the first free one from a start derived from the test's
// pid, held with a lock file for the fixture's life, so that tests running at the same time
// (ctest -j) never share names or addresses.
//
// Needs root and openssh-server (scripts/setup); ok() is false with the reason otherwise.
// Thread-safety: owned by one test thread.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "testutil/process.h"

namespace lastgood::testutil {

inline constexpr char kFleetHostsScript[] = LASTGOOD_SOURCE_DIR "/tests/fleet/hosts";

class FleetHosts {
 public:
  explicit FleetHosts(int count) : count_(count) {
    net_ = LockFreeNet();
    if (net_ == 0) {
      error_ = "no free test network: 250 of them are locked";
      return;
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("lastgood-fleet-" + std::to_string(::getpid()) + "-" + std::to_string(net_));
    std::filesystem::create_directories(dir_);
    if (::geteuid() != 0) {
      error_ = "fleet test hosts need root (ip netns)";
      return;
    }
    Outcome up =
        Run({kFleetHostsScript, "up", dir_.string(), std::to_string(count), std::to_string(net_)},
            std::chrono::seconds(60));
    if (up.code != 0) error_ = "tests/fleet/hosts up failed: " + up.out;
  }
  ~FleetHosts() {
    if (net_ != 0 && ::geteuid() == 0)
      Run({kFleetHostsScript, "down", dir_.string()}, std::chrono::seconds(60));
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  FleetHosts(const FleetHosts&) = delete;
  FleetHosts& operator=(const FleetHosts&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int count() const { return count_; }
  // The ssh_config that reaches h1..hN (for `serve --ssh-config`).
  std::string SshConfig() const { return (dir_ / "ssh_config").string(); }
  std::string Dir() const { return dir_.string(); }
  // "h3"
  static std::string Name(int i) { return "h" + std::to_string(i); }
  // "10.231.NET.13"
  std::string Address(int i) const {
    return "10.231." + std::to_string(net_) + "." + std::to_string(10 + i);
  }
  // A folder for host i's node (the hosts share this machine's filesystem).
  std::string NodeHome(int i) const { return (dir_ / Name(i) / "node").string(); }

  struct Outcome {
    int code = -1;    // exit code, -1 when killed or timed out
    std::string out;  // stdout and stderr
  };
  // Runs `ssh -F <config> [options…] h<i> <command…>`.
  Outcome Ssh(int i, const std::vector<std::string>& command,
              std::chrono::milliseconds timeout = std::chrono::seconds(20),
              const std::vector<std::string>& options = {}) const {
    std::vector<std::string> argv = {"/usr/bin/ssh", "-F", SshConfig()};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(Name(i));
    argv.insert(argv.end(), command.begin(), command.end());
    return Run(argv, timeout);
  }
  void Cut(int i) const {
    Run({kFleetHostsScript, "cut", dir_.string(), std::to_string(i)}, std::chrono::seconds(10));
  }
  void Mend(int i) const {
    Run({kFleetHostsScript, "mend", dir_.string(), std::to_string(i)}, std::chrono::seconds(10));
  }

 private:
  // Takes the lock of the first free NET (1..250) from a pid-derived start; 0 if none.
  int LockFreeNet() {
    int start = static_cast<int>(::getpid() % 250);
    for (int k = 0; k < 250; ++k) {
      int net = 1 + (start + k) % 250;
      std::string path = (std::filesystem::temp_directory_path() /
                          ("lastgood-fleet-net-" + std::to_string(net) + ".lock"))
                             .string();
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) continue;
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        lock_fd_ = fd;
        return net;
      }
      ::close(fd);
    }
    return 0;
  }

  Outcome Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const {
    static int serial = 0;
    std::string out = (dir_ / (".run-" + std::to_string(++serial))).string();
    ProcessOptions o;
    o.argv = argv;
    o.stdout_path = out;
    o.stderr_path = out + ".err";
    Process p(o);
    Outcome r;
    auto status = p.Wait(timeout);
    if (status && status->exited()) r.code = status->code;
    r.out = ReadFile(out) + ReadFile(out + ".err");
    std::error_code ec;
    std::filesystem::remove(out, ec);
    std::filesystem::remove(out + ".err", ec);
    return r;
  }

  int count_;
  int net_ = 0;
  int lock_fd_ = -1;
  std::filesystem::path dir_;
  std::string error_;
};

}  // namespace lastgood::testutil
