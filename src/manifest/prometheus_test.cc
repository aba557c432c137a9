// analysis.prometheus: read with its defaults, refused with field and line when it cannot work,
// and written back by the canonical form exactly.
#include <gtest/gtest.h>

#include "manifest/canonical.h"
#include "manifest/parser.h"
#include "manifest/testing.h"

namespace lastgood {
namespace {

using namespace manifest_testing;

const std::string kHead = With("strategy:\n  type: canary\n  canary:\n    steps:\n");
const std::string kAt = "strategy.canary.steps[0].analysis.prometheus";

std::string Step(const std::string& prometheus) {
  return kHead + "      - analysis: { window: 30s, prometheus: " + prometheus + " }\n";
}

TEST(ParsePrometheus, ReadsTheAddressAndEachQueryWithItsLimits) {
  Manifest m = Parse(Step(
      "{ address: 'http://127.0.0.1:9090', queries: [\n"
      "  { name: error-rate, query: 'sum(rate(x{version=\"{{canary}}\"}[30s]))', max: 0.01 },\n"
      "  { name: rps, query: 'sum(rate(y[30s]))', min: 5, max: 1e4 } ] }"));
  const auto& p = m.strategy.canarySteps[0].analysis.prometheus;
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->address, "http://127.0.0.1:9090");
  ASSERT_EQ(p->queries.size(), 2u);
  EXPECT_EQ(p->queries[0].name, "error-rate");
  EXPECT_EQ(p->queries[0].query, "sum(rate(x{version=\"{{canary}}\"}[30s]))");
  EXPECT_EQ(p->queries[0].max, 0.01);
  EXPECT_FALSE(p->queries[0].min.has_value());
  EXPECT_EQ(p->queries[1].min, 5);
  EXPECT_EQ(p->queries[1].max, 10000);
  EXPECT_FALSE(Parse(kHead + "      - analysis: {}\n").strategy.canarySteps[0].analysis.prometheus);
}

TEST(ParsePrometheus, SubstitutesParametersAtApplyAndLeavesPlaceholdersForTheRun) {
  Manifest m = Parse(
      "app: web\nparameters:\n  prom: { default: 'http://10.0.0.5:9090' }\n"
      "run: { command: [./web] }\nstrategy:\n  type: canary\n  canary:\n"
      "    steps:\n      - analysis: { prometheus: { address: '${params.prom}', "
      "queries: [ { name: e, query: 'x{app=\"{{app}}\"}', max: 1 } ] } }\n");
  const auto& p = *m.strategy.canarySteps[0].analysis.prometheus;
  EXPECT_EQ(p.address, "http://10.0.0.5:9090");
  EXPECT_EQ(p.queries[0].query, "x{app=\"{{app}}\"}");
}

TEST(ParsePrometheus, RefusesWhatCannotWorkWithFieldAndLine) {
  EXPECT_MANIFEST_ERROR(Step("{ queries: [ { name: e, query: up, max: 1 } ] }"), kAt, 8,
                        "needs an address");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'ftp://p:9090', queries: [ { name: e, query: up, max: 1 } ] }"),
      kAt + ".address", 8, "http:// or https://");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://u:pw@p:9090', queries: [ { name: e, query: up, max: 1 } ] }"),
      kAt + ".address", 8, "credentials");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://p:99999', queries: [ { name: e, query: up, max: 1 } ] }"),
      kAt + ".address", 8, "port");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://p:9090/?x=1', queries: [ { name: e, query: up, max: 1 } ] }"),
      kAt + ".address", 8, "?query");
  EXPECT_MANIFEST_ERROR(Step("{ address: 'http://p:9090' }"), kAt, 8, "1 to 10 queries");
  EXPECT_MANIFEST_ERROR(Step("{ address: 'http://p:9090', queries: [] }"), kAt + ".queries", 8,
                        "1 to 10 queries");
  EXPECT_MANIFEST_ERROR(Step("{ address: 'http://p:9090', queries: [ { query: up, max: 1 } ] }"),
                        kAt + ".queries[0]", 8, "needs a name");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://p:9090', queries: [ { name: 'a b', query: up, max: 1 } ] }"),
      kAt + ".queries[0].name", 8, "letters, digits");
  EXPECT_MANIFEST_ERROR(Step("{ address: 'http://p:9090', queries: [ { name: e, query: up } ] }"),
                        kAt + ".queries[0]", 8, "has no limit");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://p:9090', queries: [ { name: e, query: up, min: 2, max: 1 } ] }"),
      kAt + ".queries[0].min", 8, "min is above max");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://p:9090', queries: [ { name: e, query: up, max: lots } ] }"),
      kAt + ".queries[0].max", 8, "expected a number");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://p:9090', queries: [ { name: e, query: 'x{v=\"{{version}}\"}', "
           "max: 1 } ] }"),
      kAt + ".queries[0].query", 8, "'{{version}}' is not a placeholder");
  EXPECT_MANIFEST_ERROR(Step("{ address: 'http://p:9090', queries: [ { name: e, query: up, max: "
                             "1 }, { name: e, query: up, max: 2 } ] }"),
                        kAt + ".queries[1]", 8, "two queries are named 'e'");
  EXPECT_MANIFEST_ERROR(Step("{ address: 'http://p:9090', queries: [ { name: e, query: '" +
                             std::string(5000, 'x') + "', max: 1 } ] }"),
                        kAt + ".queries[0].query", 8, "the limit is 4096");
  EXPECT_MANIFEST_ERROR(
      Step("{ address: 'http://p:9090', queries: [ { name: e, query: up, max: 1, step: 5 } ] }"),
      kAt + ".queries[0].step", 8, "");
}

TEST(ParsePrometheus, RoundTripsThroughTheCanonicalForm) {
  Manifest m = Parse(Step(
      "{ address: 'https://prom.example:9090/prom', queries: [\n"
      "  { name: error-rate, query: 'sum(rate(x{version=\"{{canary}}\"}[30s])) > 0', max: 0.01 },"
      "\n  { name: p99, query: 'histogram_quantile(0.99, y)', min: 0, max: 0.25 } ] }"));
  std::string text = ToCanonicalYaml(m);
  Manifest again = Parse(text);
  EXPECT_EQ(again, m);
  EXPECT_EQ(ToCanonicalYaml(again), text);
}

}  // namespace
}  // namespace lastgood
