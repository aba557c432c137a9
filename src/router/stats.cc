#include "router/stats.h"

#include <nlohmann/json.hpp>

#include "router/latency_histogram.h"

namespace lastgood {

using nlohmann::json;

std::string StatsToJson(const RouterStats& stats) {
  json rows = json::array();
  for (const auto& r : stats.rows) {
    rows.push_back({{"app", r.app},
                    {"slot", r.slot},
                    {"version", r.version},
                    {"backend", r.backend},
                    {"pinned", r.pinned},
                    {"requests", r.requests},
                    {"responses2xx", r.responses2xx},
                    {"responses3xx", r.responses3xx},
                    {"responses4xx", r.responses4xx},
                    {"responses5xx", r.responses5xx},
                    {"connectErrors", r.connectErrors},
                    {"timeouts", r.timeouts},
                    {"p50ms", r.p50ms},
                    {"p90ms", r.p90ms},
                    {"p99ms", r.p99ms},
                    {"maxms", r.maxms},
                    {"inFlight", r.inFlight},
                    {"totalRequests", r.totalRequests},
                    {"totalErrors", r.totalErrors}});
    if (!r.latency.empty()) rows.back()["latency"] = r.latency;
  }
  return json{{"windowMillis", stats.windowMillis},
              {"statsSince", stats.statsSinceMillis},
              {"rows", std::move(rows)}}
      .dump();
}

Result<RouterStats> StatsFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error::InvalidInput("stats are not a JSON object");
  try {
    RouterStats stats;
    stats.windowMillis = j.value("windowMillis", int64_t{0});
    stats.statsSinceMillis = j.value("statsSince", int64_t{0});
    for (const auto& r : j.value("rows", json::array())) {
      StatsRow row;
      row.app = r.value("app", "");
      row.slot = r.value("slot", "");
      row.version = r.value("version", 0);
      row.backend = r.value("backend", "");
      row.pinned = r.value("pinned", false);
      row.requests = r.value("requests", uint64_t{0});
      row.responses2xx = r.value("responses2xx", uint64_t{0});
      row.responses3xx = r.value("responses3xx", uint64_t{0});
      row.responses4xx = r.value("responses4xx", uint64_t{0});
      row.responses5xx = r.value("responses5xx", uint64_t{0});
      row.connectErrors = r.value("connectErrors", uint64_t{0});
      row.timeouts = r.value("timeouts", uint64_t{0});
      row.p50ms = r.value("p50ms", 0.0);
      row.p90ms = r.value("p90ms", 0.0);
      row.p99ms = r.value("p99ms", 0.0);
      row.maxms = r.value("maxms", 0.0);
      row.inFlight = r.value("inFlight", uint64_t{0});
      row.totalRequests = r.value("totalRequests", uint64_t{0});
      row.totalErrors = r.value("totalErrors", uint64_t{0});
      if (auto it = r.find("latency"); it != r.end()) {
        for (const auto& pair : *it) {
          int bucket = pair.at(0).get<int>();
          if (bucket < 0 || bucket >= kLatencyBuckets) continue;  // a layout this build lacks
          row.latency.emplace_back(bucket, pair.at(1).get<uint64_t>());
        }
      }
      stats.rows.push_back(std::move(row));
    }
    return stats;
  } catch (const json::exception& e) {
    return Error::InvalidInput(std::string("stats have a field of the wrong type: ") + e.what());
  }
}

}  // namespace lastgood
