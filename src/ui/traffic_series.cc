#include "ui/traffic_series.h"

namespace lastgood::ui {

using nlohmann::json;

void TrafficSeries::Add(const std::string& app, int64_t at, const json& traffic) {
  json rows = json::array();
  if (traffic.contains("versions") && traffic["versions"].is_array()) {
    for (const auto& r : traffic["versions"]) {
      // Requests whose client pinned the slot are not what the charts (nor the analysis)
      // judge a version by: docs/router.md, "Pinning and split".
      if (!r.is_object() || r.value("pinned", false)) continue;
      double p99 = 0;
      if (r.contains("latencyMs") && r["latencyMs"].is_object())
        p99 = r["latencyMs"].value("p99", 0.0);
      rows.push_back({{"slot", r.value("slot", "")},
                      {"version", r.value("version", 0)},
                      {"requests", r.value("requests", 0)},
                      {"rate", r.value("ratePerSecond", 0.0)},
                      {"errorRate", r.value("errorRate", 0.0)},
                      {"p99Ms", p99}});
    }
  }
  std::lock_guard lock(mu_);
  if (!samples_.count(app) && samples_.size() >= kMaxSeriesApps) return;
  auto& q = samples_[app];
  q.push_back({{"t", at}, {"versions", rows}});
  while (q.size() > static_cast<size_t>(kSeriesSeconds)) q.pop_front();
}

json TrafficSeries::Since(const std::string& app, int seconds, int64_t now) const {
  json out = {{"app", app}, {"seconds", seconds}, {"samples", json::array()}};
  std::lock_guard lock(mu_);
  auto it = samples_.find(app);
  if (it == samples_.end()) return out;
  const int64_t from = now - int64_t{seconds} * 1000;
  for (const auto& s : it->second) {
    if (s["t"].get<int64_t>() >= from) out["samples"].push_back(s);
  }
  return out;
}

json TrafficSeries::Latest(const std::string& app) const {
  std::lock_guard lock(mu_);
  auto it = samples_.find(app);
  if (it == samples_.end() || it->second.empty()) return nullptr;
  return it->second.back();
}

}  // namespace lastgood::ui
