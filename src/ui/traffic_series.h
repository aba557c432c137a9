// TrafficSeries: the last minutes of per-second traffic samples per app, in memory, so that
// a freshly opened dashboard draws its canary charts with history. One sample is what the
// router measured over the last second, per slot and version: request rate, error rate and
// p99 latency. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace lastgood::ui {

inline constexpr int kSeriesSeconds = 600;  // kept per app; older samples fall off
inline constexpr size_t kMaxSeriesApps = 256;

class TrafficSeries {
 public:
  // Adds the sample taken at `at` (epoch ms) from a GET /v1/apps/{app}/traffic answer (its
  // "versions" rows are reduced to slot, version, rate, errorRate, p99Ms, requests).
  void Add(const std::string& app, int64_t at, const nlohmann::json& traffic);
  // {"app", "seconds", "samples": [{"t", "versions": [...]}, ...]}, oldest first, the
  // samples taken in the last `seconds` before `now`.
  nlohmann::json Since(const std::string& app, int seconds, int64_t now) const;
  // The newest sample of `app` ({"t", "versions"}), or null.
  nlohmann::json Latest(const std::string& app) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<nlohmann::json>> samples_;  // GUARDED_BY(mu_)
};

}  // namespace lastgood::ui
