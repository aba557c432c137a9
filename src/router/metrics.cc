#include "router/metrics.h"

#include <array>
#include <iterator>

#include "base/exposition.h"

namespace lastgood {
namespace {

MetricLabels Labels(const StatsKey& k) {
  MetricLabels labels = {{"app", k.app},
                         {"slot", k.slot},
                         {"version", std::to_string(k.version)},
                         {"backend", k.backend}};
  // Traffic whose client named its slot is a series of its own, left out of analysis.
  if (k.pinned) labels.emplace_back("pinned", "true");
  return labels;
}

MetricLabels With(MetricLabels labels, std::string name, std::string value) {
  labels.emplace_back(std::move(name), std::move(value));
  return labels;
}

// The bounds of kExposedLatencyBoundsMicros in seconds, as the histogram's le labels.
std::array<double, std::size(kExposedLatencyBoundsMicros)> LatencyBoundsSeconds() {
  std::array<double, std::size(kExposedLatencyBoundsMicros)> bounds{};
  for (size_t i = 0; i < bounds.size(); ++i)
    bounds[i] = static_cast<double>(kExposedLatencyBoundsMicros[i]) / 1e6;
  return bounds;
}

}  // namespace

std::string PrometheusText(const StatsRegistry& stats, const RouterGauges& gauges) {
  using Type = Exposition::Type;
  Exposition e;
  auto& requests =
      e.Add("lastgood_router_requests_total", Type::kCounter, "Requests sent to a backend.");
  auto& responses =
      e.Add("lastgood_router_responses_total", Type::kCounter, "Responses by status class.");
  auto& connect_errors = e.Add("lastgood_router_upstream_connect_errors_total", Type::kCounter,
                               "Failed connections to a backend.");
  auto& timeouts = e.Add("lastgood_router_upstream_timeouts_total", Type::kCounter,
                         "Backend response timeouts.");
  auto& latency =
      e.Add("lastgood_router_latency_seconds", Type::kHistogram,
            "Request head read to the backend's response head (or the router's own error).");
  auto& table = e.Add("lastgood_router_table_generation", Type::kGauge,
                      "Generation of the routing table in force.");
  static const auto kBounds = LatencyBoundsSeconds();
  stats.Visit(1, [&](const StatsKey& key, const StatsCounters& totals, const StatsSnapshot&) {
    MetricLabels labels = Labels(key);
    requests.Sample(labels, static_cast<double>(totals.requests));
    static const char* kClasses[] = {"2xx", "3xx", "4xx", "5xx"};
    for (int c = 0; c < 4; ++c)
      responses.Sample(With(labels, "class", kClasses[c]), static_cast<double>(totals.by_class[c]));
    connect_errors.Sample(labels, static_cast<double>(totals.connect_errors));
    timeouts.Sample(labels, static_cast<double>(totals.timeouts));
    latency.Histogram(labels, kBounds, totals.latency_buckets,
                      static_cast<double>(totals.latency_sum_micros) / 1e6);
  });
  table.Sample({}, static_cast<double>(gauges.table_generation));
  auto& refused = e.Add("lastgood_router_refused_connections_total", Type::kCounter,
                        "Connections reset at accept.");
  refused.Sample({{"reason", "max_connections"}}, static_cast<double>(gauges.refused_over_limit));
  refused.Sample({{"reason", "per_client"}}, static_cast<double>(gauges.refused_per_client));
  auto& listener_up = e.Add("lastgood_router_listener_up", Type::kGauge,
                            "Whether a table listener address is bound.");
  for (const auto& l : gauges.listeners)
    listener_up.Sample({{"address", l.address}}, l.bound ? 1 : 0);
  return e.Text();
}

}  // namespace lastgood
