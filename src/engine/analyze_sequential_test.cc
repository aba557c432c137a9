#include <gtest/gtest.h>

#include <atomic>

#include "engine/analysis_prometheus.h"
#include "engine/analysis_sequential.h"
#include "testutil/engine_world.h"

// The analysis step under `judge: sequential` with Prometheus queries, through the Engine
// with fakes (tests/testutil/engine_world.h): the queries are asked alongside the judge's
// looks, so that a query beyond its limit fails the canary before the judge decides.
namespace lastgood {
namespace {

using testutil::EngineWorld;
using testutil::WorldManifest;

constexpr const char* kQuery = "errors{app=\"web\",version=\"2\"}";

std::string QueriedManifest() {
  return WorldManifest(
      "strategy:\n  type: canary\n  canary:\n    steps:\n"
      "      - weight: 50\n"
      "      - analysis:\n"
      "          judge: sequential\n"
      "          window: 30s\n"
      "          prometheus:\n"
      "            address: http://127.0.0.1:9\n"
      "            queries:\n"
      "              - name: error-rate\n"
      "                query: 'errors{app=\"{{app}}\",version=\"{{canary}}\"}'\n"
      "                max: 0.01\n");
}

// A fake Prometheus whose every ask is one second of the canary's life: the router counts
// 1000 more good requests on each side, and the query answers `value` (or `error`).
struct Asked {
  std::atomic<int> asks{0};
  uint64_t requests = 0;  // per side, so far (only the engine's thread asks)
};

PrometheusAsk Answering(EngineWorld& w, Asked& asked, std::optional<double> value,
                        std::string* query_seen) {
  return [&w, &asked, value, query_seen](const std::string& q) -> Result<PrometheusAnswer> {
    ++asked.asks;
    asked.requests += 1000;
    w.router().SetTraffic("web", "production", 1, asked.requests, 0);
    w.router().SetTraffic("web", "production", 2, asked.requests, 0);
    *query_seen = q;
    if (!value) return Error::Unavailable("connecting: Connection refused");
    PrometheusAnswer a;
    a.samples.push_back({"", *value});
    return a;
  };
}

// v1 deployed with no analysis asked; returns once it serves.
void DeployV1(EngineWorld& w) {
  auto o = w.Apply(QueriedManifest(), "v1");
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_EQ(w.WaitSettled(o->deployment).state, DeploymentState::kSucceeded);
}

TEST(SequentialAnalysisWithPrometheus, AQueryBeyondItsLimitFailsTheCanaryAtItsFirstAnswer) {
  EngineWorld w;
  ASSERT_NO_FATAL_FAILURE(DeployV1(w));
  Asked asked;
  std::string query;
  w.SetPrometheus(Answering(w, asked, 0.2, &query));
  auto o = w.Apply(QueriedManifest(), "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed) << d.reason;
  // Asked once: the judge, still undecided, did not hold the query back.
  EXPECT_EQ(asked.asks.load(), 1);
  EXPECT_EQ(query, kQuery);
  EXPECT_NE(d.reason.find("analysis failed: prometheus: error-rate = 0.2 > max 0.01 [" +
                          std::string(kQuery) + "] — "),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(d.reason.find("passed"), std::string::npos) << d.reason;
  EXPECT_EQ(w.SlotVersion(), 1);
}

TEST(SequentialAnalysisWithPrometheus, AGoodCanaryPassesWithTheJudgeAndTheQueryInTheDetail) {
  EngineWorld w;
  ASSERT_NO_FATAL_FAILURE(DeployV1(w));
  Asked asked;
  std::string query;
  w.SetPrometheus(Answering(w, asked, 0.001, &query));
  auto o = w.Apply(QueriedManifest(), "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  ASSERT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
  EXPECT_EQ(w.SlotVersion(), 2);
  std::string detail;
  for (const auto& op : d.operations) {
    if (op.step.rfind("analyse", 0) == 0) detail = op.detail;
  }
  EXPECT_EQ(detail.rfind("passed: ", 0), 0u) << detail;
  EXPECT_NE(detail.find("; prometheus: error-rate = 0.001 (max 0.01) [" + std::string(kQuery)),
            std::string::npos)
      << detail;
}

TEST(SequentialAnalysisWithPrometheus, AnUnreachablePrometheusFailsTheCanaryAndNeverPassesIt) {
  EngineWorld w;
  ASSERT_NO_FATAL_FAILURE(DeployV1(w));
  Asked asked;
  std::string query;
  w.SetPrometheus(Answering(w, asked, std::nullopt, &query));
  auto o = w.Apply(QueriedManifest(), "v2");
  ASSERT_TRUE(o.ok()) << o.error().message;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kFailed) << d.reason;
  EXPECT_EQ(asked.asks.load(), kPrometheusUnreachableTries);
  EXPECT_NE(d.reason.find("analysis failed: prometheus at http://127.0.0.1:9 cannot be asked (3 "
                          "tries in a row): connecting: Connection refused"),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(w.SlotVersion(), 1);
}

}  // namespace
}  // namespace lastgood
