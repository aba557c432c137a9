// FakeRouter: a RouterControl that keeps the last table it was sent and answers stats that
// the test sets: per slot and version, how many requests, how many errors, which p99 (the
// same figures over any window and since the router began), or computes them for each ask
// (SetStatsSource). Lets
// the engine's routing and analysis steps run with no router process.
//
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "router/control.h"

namespace lastgood::testutil {

class FakeRouter : public RouterControl {
 public:
  lastgood::Status Apply(const RoutingTable& table) override {
    std::lock_guard lock(mu_);
    if (down_) return Error::Unavailable("the router does not answer (fake)");
    if (refuse_) return Error::InvalidInput("the router refused the table (fake)");
    table_ = table;
    ++applied_;
    return Status::Ok();
  }
  Result<RouterStats> Stats(Millis window) override {
    std::unique_lock lock(mu_);
    if (down_) return Error::Unavailable("the router does not answer (fake)");
    if (source_) {
      auto source = source_;
      lock.unlock();
      return source(window);
    }
    RouterStats out;
    out.windowMillis = window.count();
    for (const auto& [key, t] : traffic_) {
      StatsRow row;
      row.app = std::get<0>(key);
      row.slot = std::get<1>(key);
      row.version = std::get<2>(key);
      row.requests = t.requests;
      row.responses5xx = t.errors;
      row.responses2xx = t.requests - t.errors;
      row.p99ms = t.p99ms;
      // Counted since the router began, as a sequential analysis reads them: the aggregate
      // row and one backend's row (the real router sends both).
      row.totalRequests = t.requests;
      row.totalErrors = t.errors;
      out.rows.push_back(row);
      row.backend = "fake-" + std::to_string(row.version);
      out.rows.push_back(row);
    }
    return out;
  }
  lastgood::Status Ping() override {
    std::lock_guard lock(mu_);
    return down_ ? lastgood::Status(Error::Unavailable("down")) : Status::Ok();
  }

  // What the router measures for `version` of `app` in `slot` over any window.
  void SetTraffic(const std::string& app, const std::string& slot, int version, uint64_t requests,
                  uint64_t errors, double p99ms = 10) {
    std::lock_guard lock(mu_);
    traffic_[{app, slot, version}] = {requests, errors, p99ms};
  }
  // What the router measures, computed for each ask instead (a router whose counts move
  // with a fake clock, restarts and silences included); nullptr: SetTraffic's again.
  void SetStatsSource(std::function<Result<RouterStats>(Millis window)> source) {
    std::lock_guard lock(mu_);
    source_ = std::move(source);
  }
  // The router answers, but takes no new table (its stats and pings still answer).
  void RefuseTables(bool refuse) {
    std::lock_guard lock(mu_);
    refuse_ = refuse;
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  std::optional<RoutingTable> Table() const {
    std::lock_guard lock(mu_);
    return table_;
  }
  int Applied() const {
    std::lock_guard lock(mu_);
    return applied_;
  }

 private:
  struct Traffic {
    uint64_t requests = 0, errors = 0;
    double p99ms = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, Traffic> traffic_;
  std::function<Result<RouterStats>(Millis)> source_;
  std::optional<RoutingTable> table_;
  int applied_ = 0;
  bool refuse_ = false;
  bool down_ = false;
};

}  // namespace lastgood::testutil
