// RunProbe: blocking sockets and Spawn (process/spawn.h), every wait bounded by one deadline that
// starts when the probe starts, so a probe never takes much longer than its timeout.
#include "health/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <variant>

#include "base/fd.h"
#include "process/child.h"
#include "process/path.h"
#include "process/spawn.h"

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMaxStatusLineBytes = 4096;

// strerror, lower-cased as it reads inside a detail: "connection refused".
std::string Reason(int err) {
  std::string s = strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

int MillisLeft(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

// Waits for `events` on fd; an empty result means ready, else the failure's detail.
std::optional<std::string> WaitFor(int fd, short events, SteadyClock::time_point deadline,
                                   const std::string& timed_out) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return std::nullopt;
    if (n == 0) return timed_out;
    if (errno != EINTR) return Reason(errno);
  }
}

// A connected non-blocking socket, or the failure's detail.
std::variant<int, std::string> Connect(const ProbeSpec& spec, SteadyClock::time_point deadline,
                                       const std::string& timed_out) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string host = spec.host == "localhost" ? "127.0.0.1" : spec.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(spec.port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(spec.port));
    len = sizeof *v6;
  } else {
    return "host '" + spec.host + "' is not an IP address";
  }
  if (spec.port <= 0 || spec.port > 65535)
    return "port " + std::to_string(spec.port) + " is not valid";
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Reason(errno);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) {
      std::string why = Reason(errno);
      close(fd);
      return why;
    }
    if (auto failed = WaitFor(fd, POLLOUT, deadline, timed_out)) {
      close(fd);
      return *failed;
    }
    int err = 0;
    socklen_t err_len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) {
      close(fd);
      return Reason(err);
    }
  }
  return fd;
}

ProbeResult Done(bool ok, const std::string& label, const std::string& seen) {
  return {ok, label + " → " + seen, 0};
}

ProbeResult HttpProbe(const ProbeSpec& spec, SteadyClock::time_point deadline,
                      const std::string& timed_out) {
  std::string label = "http " + spec.path;
  if (spec.path.empty() || spec.path[0] != '/' ||
      spec.path.find_first_of(" \r\n\t") != std::string::npos) {
    return Done(false, label, "path must start with '/' and hold no spaces");
  }
  auto connected = Connect(spec, deadline, timed_out);
  if (auto* why = std::get_if<std::string>(&connected)) return Done(false, label, *why);
  Fd fd(std::get<int>(connected));

  std::string request = "GET " + spec.path + " HTTP/1.1\r\nHost: " + spec.host + ":" +
                        std::to_string(spec.port) +
                        "\r\nConnection: close\r\nUser-Agent: lastgood-probe\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    if (auto failed = WaitFor(fd.get(), POLLOUT, deadline, timed_out)) {
      return Done(false, label, *failed);
    }
    ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Done(false, label, Reason(errno));
    if (n > 0) sent += static_cast<size_t>(n);
  }

  std::string response;
  while (response.find("\r\n") == std::string::npos && response.size() < kMaxStatusLineBytes) {
    if (auto failed = WaitFor(fd.get(), POLLIN, deadline, timed_out)) {
      return Done(false, label, *failed);
    }
    char buf[1024];
    size_t want = std::min(sizeof buf, kMaxStatusLineBytes - response.size());
    ssize_t n = recv(fd.get(), buf, want, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Done(false, label, Reason(errno));
    }
    response.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK": the three digits after the first space.
  std::string line = response.substr(0, response.find("\r\n"));
  size_t space = line.find(' ');
  if (line.rfind("HTTP/", 0) != 0 || space == std::string::npos || line.size() < space + 4 ||
      !std::isdigit(static_cast<unsigned char>(line[space + 1])) ||
      !std::isdigit(static_cast<unsigned char>(line[space + 2])) ||
      !std::isdigit(static_cast<unsigned char>(line[space + 3]))) {
    return Done(false, label,
                response.empty() ? "closed without a response" : "not an HTTP response");
  }
  int status = std::stoi(line.substr(space + 1, 3));
  ProbeResult r = Done(status >= 200 && status < 400, label, std::to_string(status));
  r.httpStatus = status;
  return r;
}

ProbeResult TcpProbe(const ProbeSpec& spec, SteadyClock::time_point deadline,
                     const std::string& timed_out) {
  std::string label = "tcp :" + std::to_string(spec.port);
  auto connected = Connect(spec, deadline, timed_out);
  if (auto* why = std::get_if<std::string>(&connected)) return Done(false, label, *why);
  close(std::get<int>(connected));
  return Done(true, label, "connected");
}

ProbeResult ExecProbe(const ProbeSpec& spec, SteadyClock::time_point deadline,
                      const std::string& timed_out) {
  if (spec.command.empty() || spec.command[0].empty()) {
    return Done(false, "exec", "no command given");
  }
  std::string label = "exec " + spec.command[0];
  const char* home = std::getenv("HOME");
  EnvBuilder env;
  const std::string& state = spec.sandbox.state_dir;
  env.Set("PATH", kDefaultPath)
      .Set("HOME", !state.empty()    ? state
                   : home != nullptr ? home
                                     : "/")
      .Set("LANG", "C.UTF-8");
  if (!state.empty()) env.Set("LASTGOOD_STATE_DIR", state);
  for (const auto& [name, value] : spec.env) env.Set(name, value);

  SpawnSpec spawn;
  spawn.argv = spec.command;
  spawn.env = env.Build();
  spawn.cwd = spec.cwd;
  spawn.detach = SpawnSpec::Detach::kGroup;  // so a timeout kills its children too
  spawn.sandbox = spec.sandbox;
  std::optional<std::string> exec_path =
      ResolveCommand(spec.command[0], EnvValue(spawn.env, "PATH"), spec.cwd);
  if (!exec_path) return Done(false, label, Reason(ENOENT));
  spawn.exec_path = *exec_path;
  SpawnFailure failure;
  Result<int> pid = Spawn(spawn, &failure);
  if (!pid.ok()) {
    return Done(false, label, failure.err != 0 ? Reason(failure.err) : pid.error().message);
  }

  Child child(*pid);
  while (!child.ExitedWithin(Millis(MillisLeft(deadline)))) {
    if (SteadyClock::now() < deadline) continue;
    kill(-child.pid(), SIGKILL);  // the unreaped child pins the group id: this hits no one else
    child.Reap();
    return Done(false, label, timed_out);
  }
  int status = child.Reap();
  if (WIFEXITED(status)) {
    return Done(WEXITSTATUS(status) == 0, label, "exit " + std::to_string(WEXITSTATUS(status)));
  }
  return Done(false, label, "killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace

ProbeResult RunProbe(const ProbeSpec& spec) {
  auto deadline = SteadyClock::now() + spec.timeout;
  std::string timed_out = "timed out after " + FormatDuration(spec.timeout);
  switch (spec.kind) {
    case ProbeSpec::Kind::kHttp:
      return HttpProbe(spec, deadline, timed_out);
    case ProbeSpec::Kind::kTcp:
      return TcpProbe(spec, deadline, timed_out);
    case ProbeSpec::Kind::kExec:
      return ExecProbe(spec, deadline, timed_out);
  }
  return {false, "unknown probe kind", 0};
}

}  // namespace lastgood
