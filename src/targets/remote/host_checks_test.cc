#include "targets/remote/host_checks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

namespace lastgood {
namespace {

using namespace std::chrono_literals;

// A host that does not answer until released, as a hung node holds a check until its timeout.
class Hang {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return released_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

// The hosts whose check has ended.
class Done {
 public:
  void Add(const std::string& host) {
    std::lock_guard lock(mu_);
    hosts_.insert(host);
    cv_.notify_all();
  }
  bool WaitFor(size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return hosts_.size() >= n; });
  }
  bool Has(const std::string& host) {
    std::lock_guard lock(mu_);
    return hosts_.count(host) > 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> hosts_;
};

TEST(HostChecks, AHungHostDoesNotDelayTheOtherHostsChecks) {
  Hang hang;
  Done done;
  HostChecks checks(4);
  auto check = [&](const std::string& host) {
    if (host == "hung") hang.Wait();
    done.Add(host);
  };
  // The hung host first, as it would be first in the registry's order.
  ASSERT_TRUE(checks.Start("hung", check));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(checks.Start("web" + std::to_string(i), check));
  // Every other host is checked while the hung one still holds its check (a deadline, not a
  // measure: one after another they would wait forever here).
  EXPECT_TRUE(done.WaitFor(20, 10s));
  EXPECT_FALSE(done.Has("hung"));
  hang.Release();
  checks.WaitIdle();
  EXPECT_TRUE(done.Has("hung"));
}

TEST(HostChecks, AHostWhoseCheckIsUnderWayIsSkippedNotQueued) {
  Hang hang;
  std::atomic<int> runs{0};
  HostChecks checks(4);
  auto check = [&](const std::string&) {
    ++runs;
    hang.Wait();
  };
  ASSERT_TRUE(checks.Start("hung", check));
  EXPECT_FALSE(checks.Start("hung", check));
  EXPECT_FALSE(checks.Start("hung", check));
  hang.Release();
  checks.WaitIdle();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_TRUE(checks.Start("hung", check));  // once it ended, the next round checks it again
  checks.WaitIdle();
  EXPECT_EQ(runs.load(), 2);
}

TEST(HostChecks, NoMoreThanItsLimitRunAtOnce) {
  std::atomic<int> inside{0}, worst{0};
  Done done;
  HostChecks checks(3);
  for (int i = 0; i < 30; ++i) {
    checks.Start("web" + std::to_string(i), [&](const std::string& host) {
      int now = ++inside;
      int seen = worst.load();
      while (now > seen && !worst.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(2ms);
      --inside;
      done.Add(host);
    });
  }
  checks.WaitIdle();
  EXPECT_TRUE(done.WaitFor(30, 1s));
  EXPECT_LE(worst.load(), 3);
  EXPECT_GE(worst.load(), 2);  // they did run side by side
  EXPECT_EQ(checks.peak(), worst.load());
}

}  // namespace
}  // namespace lastgood
