#include "manifest/canonical.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "manifest/parser.h"
#include "manifest/testing.h"

namespace lastgood {
namespace {

using namespace manifest_testing;

constexpr char kFull[] = R"(app: web
parameters:
  label: { default: v1 }
run:
  command: ["./bin/web", "--port", "${PORT}", "--label", "${params.label}"]
  artifact: ./build/web.tar.gz
  env:
    GREETING: "hello ${params.label}"
    DATABASE_URL: { value: "postgres://db", sticky: true }
  stopGrace: 1500ms
replicas: 3
route:
  listen: 127.0.0.1:8080
  preview: 127.0.0.1:8081
health:
  readiness: { exec: ["./check", "--quick"], interval: 500ms, timeout: 1s, failureThreshold: 5 }
strategy:
  type: canary
  rolling: { maxSurge: 2, maxUnavailable: 1 }
  canary:
    steps:
      - weight: 10
      - analysis: { window: 10s, minRequests: 100, maxErrorRate: 0.01, maxLatencyP99: 300ms,
                    maxErrorRateIncrease: 0.3333333333333333, failureLimit: 1 }
      - weight: 50
      - pause: 1m30s
      - pause: untilResumed
progressDeadline: 2m
bake: 10s
rollback:
  onError: release-3
  keepPrevious: 1h
hooks:
  preDeploy: { command: ["./migrate", "up"], timeout: 60s }
  postRollback: { command: ["./notify", "rolled back"] }
)";

// ParseManifest(ToCanonicalYaml(m), {}) == m, and the canonical text is a fixed point.
void ExpectRoundTrip(const Manifest& m) {
  std::string text = ToCanonicalYaml(m);
  auto again = ParseManifest(text, {});
  ASSERT_TRUE(again.ok()) << again.error().ToString() << "\n" << text;
  EXPECT_EQ(again->manifest, m) << text;
  EXPECT_EQ(ToCanonicalYaml(again->manifest), text);
  EXPECT_TRUE(again->params.empty());
}

TEST(ToCanonicalYaml, RoundTripsAFullManifest) {
  Manifest m = Parse(kFull);
  ASSERT_EQ(m.strategy.canarySteps.size(), 5u);
  ExpectRoundTrip(m);
}

TEST(ToCanonicalYaml, RoundTripsTheSampleManifests) {
  std::ifstream in(LASTGOOD_SOURCE_DIR "/examples/sample.yaml");
  std::stringstream text;
  text << in.rdbuf();
  ExpectRoundTrip(Parse(text.str()));
  ExpectRoundTrip(Parse(text.str(), {{"label", "v2: #2"}, {"failRate", "0.25"}}));
}

TEST(ToCanonicalYaml, RoundTripsEachProbeKind) {
  for (const char* readiness : {"{ http: /healthz }", "{ tcp: true }", "{ exec: [./c] }"}) {
    ExpectRoundTrip(Parse(std::string("app: web\nrun: {command: [./w]}\nhealth: { readiness: ") +
                          readiness + " }\n"));
  }
}

TEST(ToCanonicalYaml, WritesEveryFieldInAFixedOrderWithDefaults) {
  Manifest m = Parse("app: web\nrun:\n  command: [./web]\n");
  EXPECT_EQ(ToCanonicalYaml(m), R"(app: "web"
run:
  command: ["./web"]
  env: {}
  stopGrace: 10s
replicas: 1
route: {}
health: {}
strategy:
  type: rolling
  rolling:
    maxSurge: 1
    maxUnavailable: 0
  canary:
    steps: []
progressDeadline: 1m
bake: 0s
rollback:
  onError: "lastSuccessful"
  keepPrevious: 0s
hooks: {}
)");
}

TEST(ToCanonicalYaml, DoesNotDependOnTheOrderFieldsWereWritten) {
  Manifest a = Parse(
      "app: web\nbake: 5s\nrun: {env: {A: x, B: y}, command: [./web]}\n"
      "replicas: 2\n");
  Manifest b = Parse(
      "replicas: 2\nrun: {command: [./web], env: {A: x, B: y}}\nbake: 5000ms\n"
      "app: web\n");
  EXPECT_EQ(ToCanonicalYaml(a), ToCanonicalYaml(b));
  EXPECT_EQ(ToCanonicalYaml(a).find("parameters"), std::string::npos);
}

TEST(ToCanonicalYaml, KeepsEnvInTheOrderWritten) {
  Manifest m = Parse("app: web\nrun: {command: [./web], env: {Z: 1, A: 2}}\n");
  std::string text = ToCanonicalYaml(m);
  EXPECT_LT(text.find("Z:"), text.find("A:"));
  ExpectRoundTrip(m);
}

TEST(ToCanonicalYaml, RecordsASecretByItsNameAndRoundTripsIt) {
  Manifest m = Parse(
      "app: web\nrun:\n  command: [./web]\n  env:\n    DB_PASSWORD: { secret: db-password }\n"
      "    TLS: { secret: tls, sticky: true }\n");
  std::string text = ToCanonicalYaml(m);
  EXPECT_NE(text.find("DB_PASSWORD: {secret: \"db-password\", sticky: false}"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("value"), std::string::npos) << text;
  ExpectRoundTrip(m);
}

TEST(ToCanonicalYaml, QuotesStringsThatYamlWouldReadAsSomethingElse) {
  const std::vector<std::string> odd = {
      ":",           "a: b",    "#x",     "x #y",    " lead",     "trail ",
      "yes",         "no",      "true",   "null",    "~",         "123",
      "0x1F",        "1e3",     "",       "-",       "- item",    "[a]",
      "{a}",         "'q'",     "\"dq\"", "a\\b",    "tab\there", "line\nbreak",
      "ünïcødé ☃ 🚀", "${PORT}", "*alias", "&anchor", "!tag",      "%percent",
      "@at",         "`tick`",  "|",      ">",       "? k",       "\x01\x7f"};
  Manifest m = Parse("app: web\nrun: {command: [./web]}\n");
  for (size_t i = 0; i < odd.size(); ++i) {
    m.run.command.push_back(odd[i]);
    m.run.env.push_back({"V" + std::to_string(i), odd[i], i % 2 == 0, ""});
  }
  m.run.artifact = "./dir with space/#1: x";
  m.hooks.postDeploy = Hook{odd, Millis(1500)};
  ExpectRoundTrip(m);
}

TEST(ToCanonicalYaml, WritesNumbersThatReadBackExactly) {
  for (double rate : {0.0, 1.0, 0.1, 0.01, 1e-05, 0.3333333333333333, 0.123456789}) {
    Manifest m = Parse(kFull);
    m.strategy.canarySteps[1].analysis.maxErrorRate = rate;
    ExpectRoundTrip(m);
  }
}

TEST(ToCanonicalYaml, RoundTripsTheSequentialJudgeAndWritesTheThresholdJudgeAsBefore) {
  for (const char* tolerance : {"{}", "{ errorRate: 0.015, latency: 12.5% }", "{ latency: 0.001% }",
                                "{ errorRate: 0.3, latency: 250ms }"}) {
    Manifest m = Parse(std::string("app: web\nrun: {command: [./web]}\nstrategy:\n  type: "
                                   "canary\n  canary:\n    steps:\n      - analysis: { judge: "
                                   "sequential, falseAlarmRate: 0.0001, tolerance: ") +
                       tolerance + " }\n");
    ExpectRoundTrip(m);
  }
  // A version stored before the sequential judge existed keeps its content: its canonical
  // text names no judge.
  std::string text = ToCanonicalYaml(Parse(kFull));
  EXPECT_EQ(text.find("judge"), std::string::npos) << text;
  EXPECT_EQ(text.find("tolerance"), std::string::npos) << text;
}

TEST(ToCanonicalYaml, WritesDurationsInTheirShortestForm) {
  Manifest m = Parse(kFull);
  std::string text = ToCanonicalYaml(m);
  EXPECT_NE(text.find("stopGrace: 1500ms"), std::string::npos) << text;
  EXPECT_NE(text.find("pause: 1m30s"), std::string::npos) << text;
  EXPECT_NE(text.find("pause: untilResumed"), std::string::npos) << text;
  EXPECT_NE(text.find("progressDeadline: 2m"), std::string::npos) << text;
  EXPECT_NE(text.find("timeout: 1m"), std::string::npos) << text;  // the hook's 60s
}

// Every manifest that parses must round-trip, not only the ones written by hand: drop each
// line and each character of a full manifest in turn and check whatever still parses.
TEST(ToCanonicalYaml, RoundTripsEveryVariantThatParses) {
  const std::string full = kFull;
  int parsed = 0;
  auto check = [&](const std::string& yaml) {
    auto r = ParseManifest(yaml, {});
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << r.error().ToString();
      return;
    }
    ++parsed;
    ExpectRoundTrip(r->manifest);
  };
  for (size_t i = 0; i < full.size(); ++i) check(full.substr(0, i) + full.substr(i + 1));
  for (size_t start = 0; start < full.size();) {
    size_t end = full.find('\n', start) + 1;
    check(full.substr(0, start) + full.substr(end));
    start = end;
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace lastgood
