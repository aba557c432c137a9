// KeeperLink: a worker's end of its channel to the keeper (router/keeper.h). The worker tells
// the keeper which listening sockets to hold ("hold ADDR" with copies of them, "drop ADDR"),
// that it serves ("ready"), drains ("draining"), and hands its statistics on ("stats"); the
// keeper sends it, after the start, its predecessor's statistics.
//
// The link keeps a copy of every socket the keeper holds, so that when the keeper dies alone
// it starts a new one (`lastgood router --adopt-worker PID` from /proc/self/exe, a session of
// its own) and hands it those copies: the next crash of the worker is covered again. It waits
// a second first, so that someone who stops the router by hand, keeper first, stops both.
//
// Thread-safe: Tell from any thread; Listen runs a thread of its own until Stop.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "router/socket_handoff.h"

namespace lastgood {

// What a new keeper is started with: the worker's own options.
struct KeeperArgs {
  std::string home, admin;
  int threads = 1, max_connections = 0;
};

class KeeperLink {
 public:
  // `channel`: the worker's end (-1: no keeper; every call does nothing).
  KeeperLink(int channel, KeeperArgs args)
      : args_(std::move(args)), present_(channel >= 0), channel_(channel) {}
  ~KeeperLink();
  KeeperLink(const KeeperLink&) = delete;
  KeeperLink& operator=(const KeeperLink&) = delete;

  bool present() const { return present_; }
  // One message; "hold ADDR" with more than kHandoffFdLimit sockets goes in parts. A keeper
  // that is gone changes nothing here.
  void Tell(const std::string& text, const std::vector<int>& fds = {});
  // Calls `on_message` with every message the keeper sends from now on (the descriptors are
  // closed after it returns), on a thread of its own; a keeper that dies is replaced.
  void Listen(std::function<void(const HandoffMessage&)> on_message);
  // From now on a keeper that dies is not replaced (the worker drains), and listening ends
  // within 200 ms. Does not wait.
  void StopSoon() { stopping_.store(true); }
  // StopSoon, then waits for the listening thread.
  void Stop();

 private:
  static bool SendInParts(int channel, const std::string& text, const std::vector<int>& fds);
  void Remember(const std::string& text, const std::vector<int>& fds);  // REQUIRES: mu_
  bool StartKeeper();
  void Run(const std::function<void(const HandoffMessage&)>& on_message);

  const KeeperArgs args_;
  const bool present_;
  std::mutex mu_;
  int channel_;                                   // guarded by mu_ once listening
  std::map<std::string, std::vector<int>> held_;  // copies of what the keeper holds; mu_
  std::vector<int> started_;                      // keepers started here, not yet reaped
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lastgood
