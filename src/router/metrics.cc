#include "router/metrics.h"

#include <cstdio>

namespace lastgood {
namespace {

// Label values come from validated names and ids, but escape anyway: the format demands it.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Labels(const StatsKey& k) {
  return "app=\"" + Escape(k.app) + "\",slot=\"" + Escape(k.slot) + "\",version=\"" +
         std::to_string(k.version) + "\",backend=\"" + Escape(k.backend) + "\"";
}

void Line(std::string& out, const char* name, const std::string& labels, double value) {
  char number[64];
  snprintf(number, sizeof(number), "%.17g", value);
  out += name;
  out += '{';
  out += labels;
  out += "} ";
  out += number;
  out += '\n';
}

}  // namespace

std::string PrometheusText(const StatsRegistry& stats, uint64_t generation) {
  std::string requests, responses, connect_errors, timeouts, latency;
  stats.Visit(kMetricsWindowSeconds, [&](const StatsKey& key, const StatsCounters& totals,
                                         const StatsSnapshot& window) {
    std::string labels = Labels(key);
    Line(requests, "lastgood_router_requests_total", labels, static_cast<double>(totals.requests));
    static const char* kClasses[] = {"2xx", "3xx", "4xx", "5xx"};
    for (int c = 0; c < 4; ++c) {
      Line(responses, "lastgood_router_responses_total", labels + ",class=\"" + kClasses[c] + "\"",
           static_cast<double>(totals.by_class[c]));
    }
    Line(connect_errors, "lastgood_router_upstream_connect_errors_total", labels,
         static_cast<double>(totals.connect_errors));
    Line(timeouts, "lastgood_router_upstream_timeouts_total", labels,
         static_cast<double>(totals.timeouts));
    for (auto [q, text] : {std::pair{0.5, "0.5"}, std::pair{0.9, "0.9"}, std::pair{0.99, "0.99"},
                           std::pair{1.0, "1"}}) {
      double seconds = q == 1.0 ? static_cast<double>(window.counters.max_micros) / 1e6
                                : window.QuantileMillis(q) / 1000.0;
      Line(latency, "lastgood_router_latency_seconds", labels + ",quantile=\"" + text + "\"",
           seconds);
    }
  });
  std::string out;
  out += "# HELP lastgood_router_requests_total Requests sent to a backend.\n";
  out += "# TYPE lastgood_router_requests_total counter\n" + requests;
  out += "# HELP lastgood_router_responses_total Responses by status class.\n";
  out += "# TYPE lastgood_router_responses_total counter\n" + responses;
  out += "# HELP lastgood_router_upstream_connect_errors_total Failed connections to a backend.\n";
  out += "# TYPE lastgood_router_upstream_connect_errors_total counter\n" + connect_errors;
  out += "# HELP lastgood_router_upstream_timeouts_total Backend response timeouts.\n";
  out += "# TYPE lastgood_router_upstream_timeouts_total counter\n" + timeouts;
  out += "# HELP lastgood_router_latency_seconds Request head to response head, last 60s.\n";
  out += "# TYPE lastgood_router_latency_seconds summary\n" + latency;
  out += "# HELP lastgood_router_table_generation Generation of the routing table in force.\n";
  out += "# TYPE lastgood_router_table_generation gauge\n";
  out += "lastgood_router_table_generation " + std::to_string(generation) + "\n";
  return out;
}

}  // namespace lastgood
