// contrib/grafana/lastgood.json, the Grafana dashboard for lastgood's metrics: every metric its
// queries name is exported by a real controller and router, and every query is PromQL that a
// real Prometheus accepts (with Grafana's variables given values).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "testutil/lastgood.h"
#include "testutil/prometheus.h"

namespace lastgood::testutil {
namespace {

using namespace std::chrono_literals;

const std::string kDashboard = std::string(LASTGOOD_SOURCE_DIR) + "/contrib/grafana/lastgood.json";

// Every PromQL of the dashboard: its panels' targets and its query variables.
std::vector<std::string> QueriesOf(const nlohmann::json& dashboard) {
  std::vector<std::string> queries;
  for (const auto& panel : dashboard.value("panels", nlohmann::json::array())) {
    for (const auto& target : panel.value("targets", nlohmann::json::array()))
      queries.push_back(target.value("expr", ""));
  }
  for (const auto& var : dashboard["templating"].value("list", nlohmann::json::array())) {
    if (var.value("type", "") == "query") queries.push_back(var["query"].value("query", ""));
  }
  return queries;
}

// The series names an exposition exports: each family, and a histogram's _bucket/_sum/_count.
std::set<std::string> Exported(const std::string& exposition) {
  std::set<std::string> names;
  std::regex type_line("^# TYPE (\\S+) (\\S+)$", std::regex::multiline);
  for (std::sregex_iterator it(exposition.begin(), exposition.end(), type_line), end; it != end;
       ++it) {
    const std::string name = (*it)[1], type = (*it)[2];
    names.insert(name);
    if (type == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(name + suffix);
    }
  }
  return names;
}

// Grafana's variables as a query gets them: every app, a rate interval, the time range.
std::string WithVariables(std::string q) {
  for (auto [var, value] :
       {std::pair{"$__rate_interval", "1m"}, {"$__range", "1h"}, {"$app", ".*"}}) {
    for (size_t at; (at = q.find(var)) != std::string::npos;) q.replace(at, strlen(var), value);
  }
  // label_values() is Grafana's, not PromQL: ask for the metric it names instead.
  std::smatch m;
  if (std::regex_match(q, m, std::regex("label_values\\((\\w+), *\\w+\\)"))) return m[1];
  return q;
}

TEST(GrafanaDashboard, NamesOnlyExportedMetricsInQueriesThatPrometheusAccepts) {
  auto dashboard = nlohmann::json::parse(ReadFile(kDashboard), nullptr, false);
  ASSERT_TRUE(dashboard.is_object()) << kDashboard << " is not JSON";
  const std::vector<std::string> queries = QueriesOf(dashboard);
  ASSERT_GE(queries.size(), 10u);

  const int port = FreePort(), router = FreePort(), controller = FreePort();
  Lastgood lg;
  lg.ServeArgs({"--router-metrics", "127.0.0.1:" + std::to_string(router), "--metrics",
                "127.0.0.1:" + std::to_string(controller), "--ui", "off"});
  lg.Given()
      .App(SampleApp().Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port)))
      .Applied();
  EXPECT_EQ(HttpGet("127.0.0.1", port, "/").status, 200);
  std::set<std::string> exported = Exported(HttpGet("127.0.0.1", router, "/metrics").body);
  exported.merge(Exported(HttpGet("127.0.0.1", controller, "/metrics").body));
  ASSERT_TRUE(exported.count("lastgood_deployments_total")) << "no controller metrics";
  ASSERT_TRUE(exported.count("lastgood_router_requests_total")) << "no router metrics";

  PrometheusServer prom(lg.home() + "/prometheus", {});
  const std::regex metric("lastgood_[a-z0-9_]+");
  int named = 0;
  for (const auto& q : queries) {
    ASSERT_FALSE(q.empty()) << "a panel target without expr";
    for (std::sregex_iterator it(q.begin(), q.end(), metric), end; it != end; ++it, ++named)
      EXPECT_TRUE(exported.count(it->str())) << it->str() << " is not exported; in: " << q;
    auto answer = prom.Query(WithVariables(q));
    EXPECT_EQ(answer.value("status", ""), "success")
        << "Prometheus refuses " << WithVariables(q) << ": " << answer.dump();
  }
  EXPECT_GE(named, int(queries.size()));
}

}  // namespace
}  // namespace lastgood::testutil
