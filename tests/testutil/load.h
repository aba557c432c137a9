// SteadyLoad: an in-process steady HTTP/1.1 load for end-to-end tests that must say which
// version served which request, and when (issue 3: "zero failed requests" under a traffic
// switch). N threads, each a keep-alive GET loop against 127.0.0.1:port, optionally limited
// to a total rate; every request is recorded with its start and end (steady clock, so it
// compares with times the test takes around a command), its status and the
// X-Lastgood-Label header the sample app sets. After a transport error, or a response that
// says `Connection: close`, the thread reconnects.
//
//   SteadyLoad load({.port = port});
//   ... change something ...
//   LoadReport r = load.Stop();
//   EXPECT_EQ(r.failed, 0u) << r.Summary();
//
// A request failed when it got no complete response (refused, reset, timeout, garbage) or
// a status outside 2xx. Every request is bounded by LoadOptions::timeout, so Stop() returns
// within about that long.
//
// Thread-safety: a SteadyLoad is owned by one test thread; its own threads only touch their
// own records until Stop() joins them. Served() may be called while it runs.
#pragma once

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "testutil/http.h"

namespace lastgood::testutil {

using LoadClock = std::chrono::steady_clock;

struct LoadOptions {
  int port = 0;
  std::string host = "127.0.0.1";  // an IPv4 address (a fleet test host's)
  int threads = 4;
  double rate = 0;  // requests per second over all threads; 0: as fast as they can
  std::string path = "/";
  std::chrono::milliseconds timeout{3000};  // per request, connect included
  // Before reusing a keep-alive connection, check that the server has not closed it in
  // the meantime, as browsers and HTTP client libraries do (no request is sent on it).
  bool check_before_reuse = false;
};

struct LoadRequest {
  LoadClock::time_point start, end;
  int status = 0;     // 0: no response
  std::string label;  // X-Lastgood-Label, "" when absent or failed
  std::string error;  // transport error, "" when a response was read
  bool failed() const { return status < 200 || status > 299; }
};

struct LoadReport {
  size_t total = 0;
  size_t failed = 0;
  std::map<std::string, size_t> per_label;  // successful requests by label
  std::vector<LoadRequest> requests;        // every request, by start time

  // The start of the last (first) successful request that `label` served; nullopt if none.
  std::optional<LoadClock::time_point> LastStartOf(const std::string& label) const {
    std::optional<LoadClock::time_point> t;
    for (const auto& r : requests) {
      if (!r.failed() && r.label == label) t = r.start;
    }
    return t;
  }
  std::optional<LoadClock::time_point> FirstStartOf(const std::string& label) const {
    for (const auto& r : requests) {
      if (!r.failed() && r.label == label) return r.start;
    }
    return std::nullopt;
  }
  // Requests that began in [from, to): {all, failed}.
  std::pair<size_t, size_t> Between(LoadClock::time_point from, LoadClock::time_point to) const {
    size_t all = 0, bad = 0;
    for (const auto& r : requests) {
      if (r.start < from || r.start >= to) continue;
      ++all;
      bad += r.failed() ? 1 : 0;
    }
    return {all, bad};
  }
  // Successful requests served by `label` that began at or after `t`.
  size_t ServedBySince(const std::string& label, LoadClock::time_point t) const {
    size_t n = 0;
    for (const auto& r : requests) n += !r.failed() && r.label == label && r.start >= t ? 1 : 0;
    return n;
  }
  // One line of counts, then the first few failures, for assertion messages.
  std::string Summary() const {
    std::string s = "requests " + std::to_string(total) + ", failed " + std::to_string(failed);
    for (const auto& [label, n] : per_label) s += ", " + label + ": " + std::to_string(n);
    int shown = 0;
    LoadClock::time_point t0 = requests.empty() ? LoadClock::time_point{} : requests[0].start;
    for (const auto& r : requests) {
      if (!r.failed()) continue;
      if (++shown > 5) break;
      auto at = std::chrono::duration_cast<std::chrono::milliseconds>(r.start - t0).count();
      s += "\n  failed at +" + std::to_string(at) + "ms: status " + std::to_string(r.status) +
           (r.error.empty() ? "" : " (" + r.error + ")");
    }
    return s;
  }
};

class SteadyLoad {
 public:
  explicit SteadyLoad(LoadOptions options) : options_(std::move(options)) {
    int n = std::max(options_.threads, 1);
    records_.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, i, n] { Run(i, n); });
  }
  ~SteadyLoad() { Stop(); }
  SteadyLoad(const SteadyLoad&) = delete;
  SteadyLoad& operator=(const SteadyLoad&) = delete;

  // Successful requests so far (to wait until traffic flows).
  size_t Served() const { return served_.load(std::memory_order_relaxed); }

  // Successful requests so far that the given label served (to wait until a share reached
  // this load's clients, not only a probe of the test's own).
  size_t ServedBy(const std::string& label) const {
    std::lock_guard<std::mutex> lock(labels_mu_);
    auto it = labels_.find(label);
    return it == labels_.end() ? 0 : it->second;
  }

  // Stops the threads after their current request and reports every request. A second call
  // returns an empty report.
  LoadReport Stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    LoadReport r;
    for (auto& per_thread : records_) {
      for (auto& x : per_thread) r.requests.push_back(std::move(x));
      per_thread.clear();
    }
    std::sort(r.requests.begin(), r.requests.end(),
              [](const LoadRequest& a, const LoadRequest& b) { return a.start < b.start; });
    for (const auto& x : r.requests) {
      ++r.total;
      if (x.failed())
        ++r.failed;
      else
        ++r.per_label[x.label];
    }
    return r;
  }

 private:
  void Run(int index, int threads) {
    using namespace std::chrono;
    auto& out = records_[static_cast<size_t>(index)];
    const std::string request = "GET " + options_.path + " HTTP/1.1\r\nHost: " + options_.host +
                                ":" + std::to_string(options_.port) +
                                "\r\nUser-Agent: lastgood-e2e-load\r\n\r\n";
    const auto gap =
        options_.rate > 0
            ? duration_cast<LoadClock::duration>(duration<double>(threads / options_.rate))
            : LoadClock::duration::zero();
    auto next = LoadClock::now() + gap * index / threads;  // spread the threads over a gap
    HttpConnection c;
    while (!stop_.load(std::memory_order_relaxed)) {
      if (gap.count() > 0) {
        std::this_thread::sleep_until(next);
        next = std::max(next + gap, LoadClock::now() - gap);  // no burst after a stall
      }
      LoadRequest r;
      r.start = LoadClock::now();
      auto deadline = r.start + options_.timeout;
      auto left = [&] {
        return std::max(milliseconds(1), duration_cast<milliseconds>(deadline - LoadClock::now()));
      };
      if (options_.check_before_reuse && c.connected() && c.PeerClosed()) c.Close();
      if (!c.connected()) r.error = c.Connect(options_.host, options_.port, left());
      if (r.error.empty()) r.error = c.Send(request, left());
      if (r.error.empty()) {
        HttpResponse h = c.ReadResponse(left());
        r.status = h.status;
        r.error = h.error;
        if (h.ok()) r.label = h.Header("X-Lastgood-Label");
        if (!h.ok() || strcasecmp(h.Header("Connection").c_str(), "close") == 0) c.Close();
      } else {
        c.Close();
      }
      if (!r.error.empty()) r.status = 0;
      r.end = LoadClock::now();
      if (!r.failed()) {
        served_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lock(labels_mu_);
        ++labels_[r.label];
      }
      bool refused = !r.error.empty() && !c.connected();
      out.push_back(std::move(r));
      // While nothing listens, an unlimited loop would only count refusals: pace it.
      if (refused && gap.count() == 0) std::this_thread::sleep_for(milliseconds(5));
    }
  }

  const LoadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> served_{0};
  mutable std::mutex labels_mu_;
  std::map<std::string, size_t> labels_;           // GUARDED_BY(labels_mu_): successes by label
  std::vector<std::vector<LoadRequest>> records_;  // one per thread, its own until joined
  std::vector<std::thread> threads_;
};

}  // namespace lastgood::testutil
