// Issue 15 §2, Prometheus both ways, end to end: the router's metrics on the address
// `serve --router-metrics` gives, clean by `promtool check metrics`, with latency as a
// histogram; a real Prometheus (started here on loopback, scraping the router every second)
// judging a canary by a PromQL error rate; an unreachable Prometheus failing the analysis.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "testutil/lastgood.h"
#include "testutil/load.h"
#include "testutil/prometheus.h"
#include "testutil/remote.h"

namespace lastgood::testutil {
namespace {

using namespace std::chrono_literals;

std::string MetricsRouteAt(int port) {
  return "route:\n  listen: 127.0.0.1:" + std::to_string(port);
}

TEST(RouterMetrics, AreServedOnTheAddressGivenAsAHistogramThatPromtoolFindsClean) {
  const int port = FreePort(), metrics = FreePort();
  Lastgood lg;
  lg.ServeArgs({"--router-metrics", "127.0.0.1:" + std::to_string(metrics)});
  lg.Given().App(SampleApp().Extra(MetricsRouteAt(port))).Applied();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(HttpGet("127.0.0.1", port, "/").status, 200);

  HttpResponse m = HttpGet("127.0.0.1", metrics, "/metrics");
  ASSERT_EQ(m.status, 200) << m.error;
  EXPECT_NE(m.body.find("# TYPE lastgood_router_latency_seconds histogram"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("lastgood_router_latency_seconds_count{app=\"web\",slot=\"production\","
                        "version=\"1\""),
            std::string::npos)
      << m.body;
  EXPECT_EQ(m.body.find("quantile="), std::string::npos) << m.body;
  PromtoolCheck check = CheckMetrics(m.body, lg.home());
  EXPECT_EQ(check.code, 0) << check.output << "\n" << m.body;
  EXPECT_EQ(ReadFile(lg.home() + "/router.admin"), "127.0.0.1:" + std::to_string(metrics) + "\n");
}

TEST(RouterMetrics, AnUnusableAddressIsRefusedBeforeAnythingStarts) {
  Lastgood lg;
  const CliResult& r = lg.Run({"serve", "--router-metrics", "localhost"}, 10s).last();
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--router-metrics"), std::string::npos) << r.err;
}

// One weight step, then an analysis whose router limit lets 10% errors through (maxErrorRate
// 0.5), so that only the Prometheus query can fail the canary.
std::string QueriedSteps(const std::string& address) {
  return "  canary:\n    steps:\n      - weight: 50\n      - analysis:\n"
         "          window: 5s\n          maxErrorRate: 0.5\n"
         "          prometheus:\n            address: " +
         address +
         "\n            queries:\n              - name: error-rate\n"
         "                query: '(sum(rate(lastgood_router_responses_total{app=\"{{app}}\","
         "version=\"{{canary}}\",class=\"5xx\"}[5s])) or vector(0)) / "
         "sum(rate(lastgood_router_requests_total{app=\"{{app}}\",version=\"{{canary}}\"}[5s]))'\n"
         "                max: 0.01";
}

// The detail of the deployment's analysis step.
std::string AnalysisDetail(Lastgood& lg, const nlohmann::json& record) {
  auto d = lg.Deployment(record["name"]);
  for (const auto& op : d["operations"]) {
    if (op["step"].get<std::string>().find("analyse") != std::string::npos)
      return op["detail"].get<std::string>();
  }
  return "(no analysis step in " + d.dump(2) + ")";
}

// A controller whose router serves metrics on a known port, a real Prometheus scraping it,
// and v1 of the sample app applied under a steady load.
struct Scraped {
  int port = FreePort(), metrics = FreePort(), controller = FreePort();
  Lastgood lg;
  std::optional<PrometheusServer> prom;
  std::optional<SteadyLoad> load;

  void Start() {
    lg.ServeArgs({"--router-metrics", "127.0.0.1:" + std::to_string(metrics), "--metrics",
                  "127.0.0.1:" + std::to_string(controller)});
    prom.emplace(lg.home() + "/prometheus",
                 std::vector<std::string>{"127.0.0.1:" + std::to_string(metrics),
                                          "127.0.0.1:" + std::to_string(controller)});
    lg.Given()
        .App(SampleApp()
                 .Strategy("canary")
                 .StrategyYaml(QueriedSteps(prom->Address()))
                 .Extra(MetricsRouteAt(port)))
        .Applied();
    load.emplace(LoadOptions{.port = port, .threads = 2, .rate = 200});
    ASSERT_TRUE(prom->WaitForSamples("lastgood_router_requests_total{version=\"1\"}", 30s))
        << prom->Targets();
  }
};

TEST(PrometheusAnalysis, ACanaryFailingTenPercentIsRolledBackByAPromqlErrorRate) {
  Scraped s;
  ASSERT_NO_FATAL_FAILURE(s.Start());
  s.lg.When().Apply({"--param", "label=v2", "--param", "failRate=0.1"});
  s.lg.Then().ExitCode(1).Verdict(2, "bad");
  s.lg.WaitForIdle(20s);
  s.load->Stop();

  s.lg.Then().Serves("v1");
  auto h = s.lg.History();
  ASSERT_GE(h.size(), 2u) << h.dump(2);
  EXPECT_EQ(h[1].value("state", ""), "Failed") << h.dump(2);
  // The query's name, value, limit and the query as asked (placeholders filled in).
  const std::string reason = h[1].value("reason", "");
  EXPECT_NE(reason.find("analysis failed (1 failed window): prometheus: error-rate = 0."),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find(" > max 0.01 [(sum(rate(lastgood_router_responses_total{app=\"web\","
                        "version=\"2\",class=\"5xx\"}[5s]))"),
            std::string::npos)
      << reason;
  EXPECT_NE(AnalysisDetail(s.lg, h[1]).find("> max 0.01"), std::string::npos);
  // The controller's own metrics, scraped by the same Prometheus, count the failed analysis.
  EXPECT_TRUE(s.prom->WaitForSamples(
      "lastgood_analysis_verdicts_total{app=\"web\",verdict=\"fail\"} == 1", 10s))
      << s.prom->Targets();
}

TEST(PrometheusAnalysis, AGoodCanaryPassesWithTheQueryAndItsValueInTheStepsDetail) {
  Scraped s;
  ASSERT_NO_FATAL_FAILURE(s.Start());
  s.lg.When().Apply({"--param", "label=v2", "--no-wait"}).Then().ExitCode(0);
  s.lg.WaitForStep("analyse canary");
  auto status = s.lg.Status();
  EXPECT_EQ(status["analysis"]["prometheus"]["address"], s.prom->Address()) << status.dump(2);
  EXPECT_EQ(status["analysis"]["prometheus"]["queries"][0]["name"], "error-rate") << status.dump(2);
  EXPECT_EQ(status["analysis"]["prometheus"]["queries"][0]["max"], 0.01) << status.dump(2);
  const CliResult& text = s.lg.Run({"status", "web"}).last();
  EXPECT_NE(text.out.find("  and prometheus at " + s.prom->Address() + ": error-rate ≤ 0.01\n"),
            std::string::npos)
      << text.out;
  s.lg.WaitForIdle(60s);
  s.load->Stop();

  s.lg.Then().Serves("v2");
  auto h = s.lg.History();
  EXPECT_EQ(h[0].value("state", ""), "Succeeded") << h.dump(2);
  const std::string detail = AnalysisDetail(s.lg, h[0]);
  EXPECT_NE(detail.find("passed: "), std::string::npos) << detail;
  EXPECT_NE(detail.find("prometheus: error-rate = 0 (max 0.01) [(sum(rate("), std::string::npos)
      << detail;
}

TEST(PrometheusAnalysis, AnUnreachablePrometheusFailsTheAnalysisWithTheReason) {
  const int port = FreePort();
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(FreePort());
  Lastgood lg;
  lg.Given()
      .App(SampleApp()
               .Strategy("canary")
               .StrategyYaml(QueriedSteps(nowhere))
               .Extra(MetricsRouteAt(port)))
      .Applied();
  SteadyLoad load({.port = port, .threads = 2, .rate = 200});
  lg.When().Apply({"--param", "label=v2"});
  lg.Then().ExitCode(1);
  lg.WaitForIdle(20s);
  load.Stop();

  lg.Then().Serves("v1");
  auto h = lg.History();
  ASSERT_GE(h.size(), 2u) << h.dump(2);
  const std::string reason = h[1].value("reason", "");
  EXPECT_NE(reason.find("analysis failed: prometheus at " + nowhere + " cannot be asked"),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("Connection refused"), std::string::npos) << reason;
}

// Under judge: sequential the queries are asked alongside the judge's looks: an unreachable
// Prometheus fails the canary after its third unanswered ask, whatever the judge says.
TEST(PrometheusAnalysis, AnUnreachablePrometheusFailsASequentialAnalysisToo) {
  const int port = FreePort();
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(FreePort());
  std::string steps = QueriedSteps(nowhere);
  const std::string threshold = "          window: 5s\n          maxErrorRate: 0.5\n";
  ASSERT_NE(steps.find(threshold), std::string::npos);
  steps.replace(steps.find(threshold), threshold.size(),
                "          judge: sequential\n          window: 5s\n");
  Lastgood lg;
  lg.Given()
      .App(SampleApp().Strategy("canary").StrategyYaml(steps).Extra(MetricsRouteAt(port)))
      .Applied();
  SteadyLoad load({.port = port, .threads = 2, .rate = 200});
  lg.When().Apply({"--param", "label=v2"});
  lg.Then().ExitCode(1);
  lg.WaitForIdle(20s);
  load.Stop();

  lg.Then().Serves("v1");
  auto h = lg.History();
  ASSERT_GE(h.size(), 2u) << h.dump(2);
  const std::string reason = h[1].value("reason", "");
  EXPECT_NE(reason.find("analysis failed: prometheus at " + nowhere + " cannot be asked"),
            std::string::npos)
      << reason;
}

// The value of the sample whose line starts with `series` (name and labels), or -1.
double SampleOf(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

TEST(ControllerMetrics,
     CountDeploymentsFromTheRecordsSoARestartKeepsThemAndPromtoolFindsThemClean) {
  const int metrics = FreePort();
  Lastgood lg;
  lg.ServeArgs({"--metrics", "127.0.0.1:" + std::to_string(metrics), "--ui", "off"});
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});
  lg.When().Apply({"--param", "label=v3", "--param", "crashOnStart=true"});
  lg.Then().ExitCode(1);
  lg.WaitForIdle(20s);

  HttpResponse m = HttpGet("127.0.0.1", metrics, "/metrics");
  ASSERT_EQ(m.status, 200) << m.error;
  const std::string ok = "lastgood_deployments_total{app=\"web\",kind=\"deploy\",trigger=\"user\",";
  EXPECT_EQ(SampleOf(m.body, ok + "outcome=\"Succeeded\"}"), 2) << m.body;
  EXPECT_EQ(SampleOf(m.body, ok + "outcome=\"Failed\"}"), 1) << m.body;
  EXPECT_EQ(SampleOf(m.body,
                     "lastgood_deployments_total{app=\"web\",kind=\"rollback\","
                     "trigger=\"auto\",outcome=\"Succeeded\"}"),
            1)
      << m.body;
  EXPECT_EQ(SampleOf(m.body, "lastgood_automatic_rollbacks_total{app=\"web\"}"), 1) << m.body;
  EXPECT_EQ(SampleOf(m.body, "lastgood_deployments_running{app=\"web\"}"), 0) << m.body;
  EXPECT_EQ(SampleOf(m.body,
                     "lastgood_deployment_duration_seconds_count{app=\"web\","
                     "kind=\"deploy\",outcome=\"Succeeded\"}"),
            2)
      << m.body;
  EXPECT_GE(SampleOf(m.body, "lastgood_step_duration_seconds_count{app=\"web\",step=\"start\"}"), 2)
      << m.body;
  EXPECT_GT(SampleOf(m.body, "lastgood_store_commit_seconds_count"), 0) << m.body;
  PromtoolCheck check = CheckMetrics(m.body, lg.home());
  EXPECT_EQ(check.code, 0) << check.output << "\n" << m.body;
  EXPECT_EQ(HttpGet("127.0.0.1", metrics, "/v1/apps").status, 404);

  // A restarted controller counts the same, from the same records.
  lg.KillController(SIGTERM).StartController();
  ASSERT_TRUE(WaitUntil([&] { return HttpGet("127.0.0.1", metrics, "/metrics").status == 200; },
                        10s, 50ms));
  HttpResponse again = HttpGet("127.0.0.1", metrics, "/metrics");
  EXPECT_EQ(SampleOf(again.body, ok + "outcome=\"Succeeded\"}"), 2) << again.body;
  EXPECT_EQ(SampleOf(again.body, "lastgood_automatic_rollbacks_total{app=\"web\"}"), 1)
      << again.body;
}

TEST(ControllerMetrics, RecordsPrunedByHistoryKeepStayCountedAcrossARestart) {
  const int metrics = FreePort();
  Lastgood lg;
  lg.ServeArgs({"--metrics", "127.0.0.1:" + std::to_string(metrics), "--ui", "off"});
  lg.Given().App(SampleApp().Extra("history: { keep: 10 }")).Applied();
  for (int v = 2; v <= 12; ++v) lg.Applied({"--param", "label=v" + std::to_string(v)});
  // The controller's upkeep prunes (every half second).
  ASSERT_TRUE(WaitUntil([&] { return lg.History().size() < 12; }, 10s, 100ms))
      << "history.keep pruned nothing";
  const std::string series =
      "lastgood_deployments_total{app=\"web\",kind=\"deploy\",trigger=\"user\","
      "outcome=\"Succeeded\"}";
  const std::string count =
      "lastgood_deployment_duration_seconds_count{app=\"web\",kind=\"deploy\","
      "outcome=\"Succeeded\"}";
  HttpResponse m = HttpGet("127.0.0.1", metrics, "/metrics");
  EXPECT_EQ(SampleOf(m.body, series), 12) << m.body;
  EXPECT_EQ(SampleOf(m.body, count), 12) << m.body;

  lg.KillController(SIGTERM).StartController();
  ASSERT_TRUE(WaitUntil([&] { return HttpGet("127.0.0.1", metrics, "/metrics").status == 200; },
                        10s, 50ms));
  HttpResponse again = HttpGet("127.0.0.1", metrics, "/metrics");
  EXPECT_EQ(SampleOf(again.body, series), 12) << again.body;
  EXPECT_EQ(SampleOf(again.body, count), 12) << again.body;
  PromtoolCheck check = CheckMetrics(again.body, lg.home());
  EXPECT_EQ(check.code, 0) << check.output << "\n" << again.body;
}

TEST(ControllerMetrics, OnTheApiTheyNeedAViewerToken) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given().App(SampleApp()).Applied();
  const int port = PortOf(ServedUrl(lg));
  const std::string viewer = MakeToken(lg, "prometheus", "viewer");
  EXPECT_EQ(HttpGet("127.0.0.1", port, "/metrics").status, 401);
  HttpResponse m = HttpGet("127.0.0.1", port, "/metrics", {{"Authorization", "Bearer " + viewer}});
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(SampleOf(m.body,
                     "lastgood_deployments_total{app=\"web\",kind=\"deploy\","
                     "trigger=\"user\",outcome=\"Succeeded\"}"),
            1)
      << m.body;
  PromtoolCheck check = CheckMetrics(m.body, lg.home());
  EXPECT_EQ(check.code, 0) << check.output << "\n" << m.body;
}

TEST(ControllerMetrics, AnUnusableAddressIsRefusedBeforeAnythingStarts) {
  Lastgood lg;
  const CliResult& r = lg.Run({"serve", "--metrics", "localhost"}, 10s).last();
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--metrics"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lastgood::testutil
