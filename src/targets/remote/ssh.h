// SshLink: the one OpenSSH connection the controller keeps to a fleet host (docs/fleets.md,
// "Processes"). It is a child process `ssh -M -S CTL -N DEST` (a ControlMaster); the node's
// socket is forwarded through it to a local unix socket (`ssh -O forward -L`), and the few
// commands that are not API requests run as `ssh -S CTL DEST …` over the same connection.
// The `ssh` client does the rest as it does for its user: ssh_config (or `-F FILE`),
// known_hosts, agent, ProxyJump. BatchMode is always on (no password is ever asked), and an
// unknown host key is refused unless accept_new_host_key; a changed one always is.
//
// ConnectionPacer bounds how many connections are being opened at once, so that a controller
// reaching many hosts (or many hosts behind one bastion) never trips sshd's MaxStartups.
//
// Thread-safe: SshLink's methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"

namespace lastgood {

// Connections being opened at once, below sshd's default MaxStartups 10:30:100.
inline constexpr int kMaxConnectionStarts = 8;
// Authentication and the first round trips must be done within this.
inline constexpr Millis kSshConnectTimeout{20'000};

class ConnectionPacer {
 public:
  explicit ConnectionPacer(int limit = kMaxConnectionStarts) : limit_(limit) {}
  void Acquire();
  void Release();
  int peak() const;  // the most starts seen at once (for the benchmark)

 private:
  const int limit_;
  mutable std::mutex mu_;
  std::condition_variable free_;
  int active_ = 0;  // GUARDED_BY(mu_)
  int peak_ = 0;    // GUARDED_BY(mu_)
};

struct SshSettings {
  std::string config;      // `serve --ssh-config FILE`: passed as -F FILE; "" = the user's
  std::string controlDir;  // "<home>/hosts": control sockets, forwarded sockets, ssh logs
};

struct CommandResult {
  int exitCode = -1;   // -1: killed (timed out) or not started
  std::string output;  // stdout then stderr, at most 64 KiB
};

// `arg` quoted for a POSIX shell: the remote side of ssh always runs a command through the
// user's shell, so every word we send is quoted and can never be read as syntax.
std::string ShellQuote(const std::string& arg);

// A command's answer: the last non-empty line of its output. A remote user's shell startup
// files may print before the command runs (seen: an rc file's `rm` complaining when fifty
// logins ran at once).
std::string CommandAnswer(const std::string& output);

class SshLink {
 public:
  SshLink(SshSettings settings, std::string name, std::string destination, ConnectionPacer* pacer);
  ~SshLink();  // closes the master
  SshLink(const SshLink&) = delete;
  SshLink& operator=(const SshLink&) = delete;

  // Opens the master if it does not run (waiting its turn at the pacer) and returns once it
  // is authenticated; Unavailable with ssh's own words (a refused host key, a timeout) when
  // it could not be.
  Status Connect(bool accept_new_host_key = false);
  // Whether the master still runs (it exits when the connection is lost).
  bool Up();
  // Forwards the local socket LocalSocket() to `remote_socket` on the host, replacing a
  // stale local one. REQUIRES: Up().
  Status Forward(const std::string& remote_socket);
  // Runs `argv` on the host over the master (each word quoted), stdin from `stdin_path`
  // ("" = /dev/null), within `timeout`.
  CommandResult Run(const std::vector<std::string>& argv, const std::string& stdin_path,
                    Millis timeout);
  // Stops the master (and so the forward).
  void Close();

  std::string LocalSocket() const;  // "<controlDir>/NAME.sock"
  // ssh's last words when the master exited, or "".
  std::string LastError();

 private:
  std::vector<std::string> Base() const;  // ssh [-F FILE] -o BatchMode=yes …
  std::string ControlPath() const;

  const SshSettings settings_;
  const std::string name_, destination_;
  ConnectionPacer* const pacer_;

  std::mutex mu_;
  int master_ = 0;          // GUARDED_BY(mu_): pid of the ssh master, 0: none
  std::string last_error_;  // GUARDED_BY(mu_)
};

}  // namespace lastgood
