#include "targets/remote/ssh.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

namespace lastgood {
namespace {

// What `sh -c 'printf %s QUOTED'` prints: the word as the remote shell sees it.
std::string ThroughShell(const std::string& quoted) {
  std::string cmd = "printf %s " + quoted;
  std::string argv = "/bin/sh -c " + ShellQuote(cmd);
  FILE* p = ::popen(argv.c_str(), "r");
  std::string out;
  char buf[256];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) ::pclose(p);
  return out;
}

TEST(ShellQuote, EveryWordReachesTheRemoteShellAsWritten) {
  for (std::string word : {std::string("/var/lib/lastgood-node"), std::string("it's"),
                           std::string("$(touch /tmp/lg-pwned)"), std::string("`id`; rm -rf /"),
                           std::string("a b\tc\nd"), std::string("'\"'\"'"), std::string("")}) {
    EXPECT_EQ(ThroughShell(ShellQuote(word)), word) << ShellQuote(word);
  }
}

TEST(ConnectionPacer, NeverLetsMoreThanItsLimitStartAtOnce) {
  ConnectionPacer pacer(3);
  std::atomic<int> inside{0}, worst{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 24; ++i) {
    threads.emplace_back([&] {
      pacer.Acquire();
      int now = ++inside;
      int seen = worst.load();
      while (now > seen && !worst.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      --inside;
      pacer.Release();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(worst.load(), 3);
  EXPECT_EQ(pacer.peak(), worst.load());
}

}  // namespace
}  // namespace lastgood
