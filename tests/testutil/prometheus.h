// A real Prometheus for end-to-end tests (Debian's `prometheus` package, scripts/setup), and
// its `promtool check metrics`:
//
//   PrometheusServer prom(dir, {"127.0.0.1:9100"});   // scrapes every second
//   prom.WaitForSamples("lastgood_router_requests_total");
//   nlohmann::json answer = prom.Query("sum(lastgood_router_requests_total)");
//   PromtoolCheck check = CheckMetrics(text, dir);     // check.code == 0 when clean
//
// The server runs on a free loopback port with its own config and data directory under
// `dir`, and is stopped by its PID (SIGTERM, then SIGKILL) when the object goes; its log
// stays in `dir` for a failed test. Thread-safety: owned by one test thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/percent_encode.h"
#include "testutil/http.h"
#include "testutil/process.h"
#include "testutil/wait.h"

namespace lastgood::testutil {

inline constexpr char kPrometheusBinary[] = "/usr/bin/prometheus";
inline constexpr char kPromtoolBinary[] = "/usr/bin/promtool";

struct PromtoolCheck {
  int code = -1;       // promtool's exit code: 0 clean, 3 lint problems, 1 parse error
  std::string output;  // what it said (stdout and stderr)
};

// `promtool check metrics` on `text` (written to a file under `dir`).
inline PromtoolCheck CheckMetrics(const std::string& text, const std::string& dir) {
  static int runs = 0;
  std::string base = dir + "/promtool-" + std::to_string(++runs);
  std::ofstream(base + ".in") << text;
  ProcessOptions o;
  o.argv = {kPromtoolBinary, "check", "metrics"};
  o.stdin_path = base + ".in";
  o.stdout_path = base + ".out";
  o.stderr_path = base + ".err";
  Process p(o);
  PromtoolCheck check;
  auto st = p.Wait(std::chrono::seconds(30));
  if (st && st->exited()) check.code = st->code;
  check.output = ReadFile(base + ".out") + ReadFile(base + ".err");
  return check;
}

class PrometheusServer {
 public:
  // Scrapes `targets` (HOST:PORT, path /metrics) every second, with `bearer` as the token
  // when not empty.
  PrometheusServer(const std::string& dir, const std::vector<std::string>& targets,
                   const std::string& bearer = "")
      : dir_(dir) {
    std::filesystem::create_directories(dir_ + "/data");
    port_ = FreePort();
    std::string config =
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: lastgood\n";
    if (!bearer.empty()) {
      std::ofstream(dir_ + "/token") << bearer;
      config += "    authorization: { credentials_file: " + dir_ + "/token }\n";
    }
    config += "    static_configs:\n      - targets: [";
    for (size_t i = 0; i < targets.size(); ++i) config += (i ? ", \"" : "\"") + targets[i] + "\"";
    config += "]\n";
    std::ofstream(dir_ + "/prometheus.yml") << config;
    ProcessOptions o;
    o.argv = {kPrometheusBinary, "--config.file=" + dir_ + "/prometheus.yml",
              "--storage.tsdb.path=" + dir_ + "/data",
              "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    o.cwd = dir_;
    o.stdout_path = dir_ + "/prometheus.out";
    o.stderr_path = dir_ + "/prometheus.log";
    process_ = Process(o);
    EXPECT_GT(process_.pid(), 0) << process_.error();
    bool ready = WaitUntil(
        [&] {
          return HttpGet("127.0.0.1", port_, "/-/ready").status == 200 || !process_.Running();
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50));
    EXPECT_TRUE(ready && process_.Running()) << "prometheus did not start; its log:\n"
                                             << ReadFile(dir_ + "/prometheus.log");
  }
  ~PrometheusServer() {
    if (process_.Kill(SIGTERM) && !process_.Wait(std::chrono::seconds(10))) process_.Kill();
  }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  int port() const { return port_; }
  std::string Address() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The API's answer to an instant query (discarded JSON when it did not answer).
  nlohmann::json Query(const std::string& promql) {
    auto r = HttpGet("127.0.0.1", port_, "/api/v1/query?query=" + PercentEncode(promql), {},
                     std::chrono::seconds(5));
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  // Waits until `promql` gives at least one sample.
  bool WaitForSamples(const std::string& promql, std::chrono::milliseconds timeout) {
    return WaitUntil(
        [&] {
          auto a = Query(promql);
          return a.is_object() && a.value("status", "") == "success" &&
                 !a["data"]["result"].empty();
        },
        timeout, std::chrono::milliseconds(200));
  }
  // The state of each scrape target ("up", "down") with its last error, for failure messages.
  std::string Targets() {
    return HttpGet("127.0.0.1", port_, "/api/v1/targets", {}, std::chrono::seconds(5)).body;
  }

 private:
  std::string dir_;
  int port_ = 0;
  Process process_;
};

}  // namespace lastgood::testutil
