#include "router/keeper_link.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "process/spawn.h"

extern char** environ;

namespace lastgood {
namespace {

// How often the listening thread looks at whether it should stop.
constexpr int kListenSliceMs = 200;
// How long a worker whose keeper is gone waits before it starts another: someone stopping
// the router by hand who kills the keeper, then the worker, stops both.
constexpr std::chrono::milliseconds kReplaceAfter{1000};

void Log(const std::string& line) { fprintf(stderr, "lastgood router: %s\n", line.c_str()); }

}  // namespace

KeeperLink::~KeeperLink() {
  Stop();
  for (auto& [address, fds] : held_)
    for (int fd : fds) ::close(fd);
}

void KeeperLink::Tell(const std::string& text, const std::vector<int>& fds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (channel_ < 0) return;
  Remember(text, fds);
  (void)SendInParts(channel_, text, fds);
}

bool KeeperLink::SendInParts(int channel, const std::string& text, const std::vector<int>& fds) {
  if (fds.size() <= kHandoffFdLimit) return SendHandoff(channel, text, fds).ok();
  const std::string address = text.substr(text.find(' ') + 1);
  for (size_t at = 0; at < fds.size(); at += kHandoffFdLimit) {
    size_t n = std::min(kHandoffFdLimit, fds.size() - at);
    std::vector<int> part(fds.begin() + at, fds.begin() + at + n);
    if (!SendHandoff(channel, at == 0 ? text : "more " + address, part).ok()) return false;
  }
  return true;
}

void KeeperLink::Remember(const std::string& text, const std::vector<int>& fds) {
  const bool hold = text.rfind("hold ", 0) == 0, drop = text.rfind("drop ", 0) == 0;
  if (!hold && !drop) return;
  const std::string address = text.substr(5);
  auto& kept = held_[address];
  for (int fd : kept) ::close(fd);
  kept.clear();
  if (drop) {
    held_.erase(address);
    return;
  }
  for (int fd : fds) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy >= 0) kept.push_back(copy);
  }
}

bool KeeperLink::StartKeeper() {
  int pair[2];
  if (!HandoffPair(pair).ok()) return false;
  SpawnSpec spawn;
  // This very binary, as the keeper starts workers.
  spawn.exec_path = "/proc/self/exe";
  spawn.argv = {
      "lastgood", "router",    "--adopt-worker",    std::to_string(::getpid()),
      "--home",   args_.home,  "--threads",         std::to_string(args_.threads),
      "--admin",  args_.admin, "--max-connections", std::to_string(args_.max_connections)};
  for (char** e = environ; *e != nullptr; ++e) spawn.env.emplace_back(*e);
  spawn.in = Stdio::Fd(pair[1]);
  spawn.out = Stdio::Inherit();
  spawn.err = Stdio::Inherit();
  // Not in the worker's group: a signal meant for the worker does not reach it.
  spawn.detach = SpawnSpec::Detach::kSession;
  std::lock_guard<std::mutex> lock(mu_);
  Result<int> pid = Spawn(spawn);
  ::close(pair[1]);
  if (!pid.ok()) {
    Log("the keeper has gone and another cannot be started: " + pid.error().message);
    ::close(pair[0]);
    return false;
  }
  // Its sockets first: it looks for nothing else until "end".
  for (const auto& [address, fds] : held_) (void)SendInParts(pair[0], "hold " + address, fds);
  (void)SendHandoff(pair[0], "end");
  ::close(channel_);
  channel_ = pair[0];
  started_.push_back(*pid);
  Log("the keeper has gone; started another (pid " + std::to_string(*pid) +
      "), which holds the listening sockets again");
  return true;
}

void KeeperLink::Listen(std::function<void(const HandoffMessage&)> on_message) {
  if (!present_ || thread_.joinable()) return;
  thread_ = std::thread([this, on_message = std::move(on_message)] { Run(on_message); });
}

void KeeperLink::Run(const std::function<void(const HandoffMessage&)>& on_message) {
  while (!stopping_.load()) {
    int channel;
    {
      std::lock_guard<std::mutex> lock(mu_);
      channel = channel_;
    }
    // A keeper started here is this process's child: reap it once it has exited.
    std::erase_if(started_, [](int pid) { return ::waitpid(pid, nullptr, WNOHANG) != 0; });
    auto m = ReceiveHandoff(channel, kListenSliceMs);
    if (!m.ok()) {
      if (m.error().message.rfind("handoff: no message", 0) == 0) continue;
      // The keeper is gone (a draining worker is stopping_ and lets it be).
      const auto replace_at = std::chrono::steady_clock::now() + kReplaceAfter;
      while (!stopping_.load() && std::chrono::steady_clock::now() < replace_at)
        std::this_thread::sleep_for(std::chrono::milliseconds(kListenSliceMs / 4));
      if (stopping_.load() || !StartKeeper()) return;
      continue;
    }
    on_message(*m);
    for (int fd : m->fds) ::close(fd);
  }
}

void KeeperLink::Stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace lastgood
