#include "manifest/parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "manifest/testing.h"

namespace lastgood {
namespace {

using namespace manifest_testing;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ParseManifest, FillsDefaultsForAMinimalManifest) {
  Manifest m = Parse(kMinimalManifest);
  EXPECT_EQ(m.app, "web");
  EXPECT_EQ(m.run.command, std::vector<std::string>{"./web"});
  EXPECT_EQ(m.run.stopGrace, kDefaultStopGrace);
  EXPECT_EQ(m.replicas, 1);
  EXPECT_FALSE(m.readiness.has_value());
  EXPECT_EQ(m.strategy.type, Strategy::Type::kRolling);
  EXPECT_EQ(m.strategy.rolling.maxSurge, 1);
  EXPECT_EQ(m.strategy.rolling.maxUnavailable, 0);
  EXPECT_EQ(m.progressDeadline, kDefaultProgressDeadline);
  EXPECT_EQ(m.rollback.onError, "lastSuccessful");
  EXPECT_EQ(m.hooks, Hooks{});
}

TEST(ParseManifest, ReadsTheDesignExample) {
  Manifest m = Parse(R"(app: web
parameters:
  label: { default: v1 }
run:
  command: ["./bin/web", "--port", "${PORT}"]
  artifact: ./build/web.tar.gz
  env:
    GREETING: "hello ${params.label}"
    DATABASE_URL: { value: "postgres://db", sticky: true }
replicas: 2
route:
  listen: 127.0.0.1:8080
  preview: 127.0.0.1:8081
health:
  readiness: { http: /healthz, interval: 500ms, timeout: 1s, failureThreshold: 3 }
strategy:
  type: canary
  rolling: { maxSurge: 1, maxUnavailable: 0 }
  canary:
    steps:
      - weight: 10
      - analysis: { window: 10s, minRequests: 100, maxErrorRate: 0.01, maxLatencyP99: 300ms }
      - weight: 50
      - pause: 10s
progressDeadline: 60s
bake: 10s
rollback:
  onError: lastSuccessful
  keepPrevious: 10m
hooks:
  preDeploy: { command: ["./migrate", "up"], timeout: 60s }
)");
  EXPECT_EQ(m.run.command[2], "${PORT}");
  ASSERT_EQ(m.run.env.size(), 2u);
  EXPECT_EQ(m.run.env[0], (EnvVar{"GREETING", "hello v1", false, ""}));
  EXPECT_EQ(m.run.env[1], (EnvVar{"DATABASE_URL", "postgres://db", true, ""}));
  EXPECT_EQ(m.route.preview, "127.0.0.1:8081");
  ASSERT_TRUE(m.readiness);
  EXPECT_EQ(m.readiness->path, "/healthz");
  EXPECT_EQ(m.readiness->interval, Millis(500));
  ASSERT_EQ(m.strategy.canarySteps.size(), 4u);
  const Analysis& a = m.strategy.canarySteps[1].analysis;
  EXPECT_EQ(a.minRequests, 100);
  EXPECT_EQ(a.maxErrorRate, 0.01);
  EXPECT_EQ(a.maxLatencyP99, Millis(300));
  EXPECT_FALSE(a.maxErrorRateIncrease.has_value());
  EXPECT_EQ(m.strategy.canarySteps[3].pause, Millis(10'000));
  EXPECT_EQ(m.rollback.keepPrevious, Millis(600'000));
  ASSERT_TRUE(m.hooks.preDeploy);
  EXPECT_EQ(m.hooks.preDeploy->command, (std::vector<std::string>{"./migrate", "up"}));
  EXPECT_FALSE(m.hooks.postDeploy);
}

TEST(ParseManifest, RunUserIsAUserNameWhoseExistenceIsTheMachinesAnswer) {
  EXPECT_EQ(Parse("app: web\nrun:\n  command: [./web]\n  user: www-data\n").run.user, "www-data");
  EXPECT_EQ(Parse(kMinimalManifest).run.user, "");
  EXPECT_MANIFEST_ERROR("app: web\nrun:\n  command: [./web]\n  user: Web Server\n", "run.user", 4,
                        "must be a user name");
  EXPECT_MANIFEST_ERROR("app: web\nrun:\n  command: [./web]\n  user: ../etc\n", "run.user", 4,
                        "must be a user name");
}

TEST(ParseManifest, UnknownFieldSuggestsTheClosestName) {
  EXPECT_MANIFEST_ERROR(With("replica: 2\n"), "replica", 4,
                        "unknown field 'replica' at the top level; did you mean 'replicas'?");
  EXPECT_MANIFEST_ERROR(With("strategy:\n  rolling:\n    maxSurg: 1\n"), "strategy.rolling.maxSurg",
                        6, "did you mean 'maxSurge'?");
}

TEST(ParseManifest, UnknownFieldFarFromAnyListsTheAllowedOnes) {
  EXPECT_MANIFEST_ERROR(With("route:\n  backend: x\n"), "route.backend", 5,
                        "allowed fields are: listen, preview");
}

TEST(ParseManifest, WrongTypeSaysWhatWasExpected) {
  EXPECT_MANIFEST_ERROR(With("replicas: [2]\n"), "replicas", 4, "expected an integer, got a list");
  EXPECT_MANIFEST_ERROR(With("replicas: two\n"), "replicas", 4, "expected an integer, got 'two'");
  EXPECT_MANIFEST_ERROR("app: web\nrun: ./web\n", "run", 2, "expected a map");
  EXPECT_MANIFEST_ERROR("app: web\nrun:\n  command: ./web\n", "run.command", 3,
                        "expected a list of strings");
  EXPECT_MANIFEST_ERROR("app: web\nrun:\n  command:\n    - ./web\n    - [x]\n", "run.command[1]", 5,
                        "expected a string, got a list");
  EXPECT_MANIFEST_ERROR(With("bake: {}\n"), "bake", 4, "expected a duration, got a map");
}

TEST(ParseManifest, AFieldWithNoValueIsAnErrorOnItsLine) {
  EXPECT_MANIFEST_ERROR(With("replicas:\nbake: 1s\n"), "replicas", 4,
                        "expected an integer, got nothing");
}

TEST(ParseManifest, RefusesCountsBelowTheirMinimum) {
  EXPECT_MANIFEST_ERROR(With("replicas: 0\n"), "replicas", 4, "must be between 1 and");
  EXPECT_MANIFEST_ERROR(With("replicas: -3\n"), "replicas", 4, "must be between 1 and");
  EXPECT_MANIFEST_ERROR(With("strategy: { rolling: { maxSurge: -1 } }\n"),
                        "strategy.rolling.maxSurge", 4, "must be between 0 and");
  EXPECT_MANIFEST_ERROR(With("health:\n  readiness: { tcp: true, failureThreshold: 0 }\n"),
                        "health.readiness.failureThreshold", 5, "must be between 1 and");
}

TEST(ParseManifest, RefusesARollingUpdateThatCouldNeverProgress) {
  EXPECT_MANIFEST_ERROR(With("strategy:\n  rolling:\n    maxSurge: 0\n    maxUnavailable: 0\n"),
                        "strategy.rolling", 5, "both 0");
}

TEST(ParseManifest, RequiresACommandWithAProgram) {
  EXPECT_MANIFEST_ERROR("app: web\nrun:\n  artifact: ./web\n", "run.command", 2,
                        "missing run.command");
  EXPECT_MANIFEST_ERROR("app: web\nrun:\n  command: []\n", "run.command", 3, "is empty");
  EXPECT_MANIFEST_ERROR("app: web\nrun:\n  command: [\"\", \"x\"]\n", "run.command[0]", 3,
                        "the program (first item) is empty");
  EXPECT_MANIFEST_ERROR("app: web\n", "run", 1, "missing run");
}

TEST(ParseManifest, RefusesWhatIsNotADuration) {
  EXPECT_MANIFEST_ERROR(With("bake: 10\n"), "bake", 4, "is not a duration");
  EXPECT_MANIFEST_ERROR(With("progressDeadline: 0s\n"), "progressDeadline", 4, "longer than zero");
  EXPECT_MANIFEST_ERROR(With("health:\n  readiness:\n    tcp: true\n    interval: 1x\n"),
                        "health.readiness.interval", 7, "500ms");
}

TEST(ParseManifest, ReportsBrokenYamlAtYamlCppsLine) {
  Error e = ParseError("app: web\nrun:\n  command: [\"./web\"\nreplicas: 1\n");
  EXPECT_EQ(e.field, "");
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("malformed"), std::string::npos);
}

TEST(ParseManifest, HintsAtQuotingAPlainReferenceInAFlowMap) {
  Error e = ParseError("app: web\nrun: { command: [./web, ${params.x}] }\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("quote values"), std::string::npos) << e.message;
}

TEST(ParseManifest, RefusesAReferenceToAnUndeclaredParameter) {
  EXPECT_MANIFEST_ERROR(
      "app: web\nparameters: { lable: {default: a} }\nrun:\n  command: [\"./web\", "
      "\"${params.label}\"]\n",
      "run.command[1]", 4, "parameter 'label' is not declared under parameters; declare it there");
  Error e = ParseError(With("bake: \"${params.label\"\n"));
  EXPECT_EQ(e.field, "bake");
  EXPECT_NE(e.message.find("not closed"), std::string::npos);
}

TEST(ParseManifest, RefusesAParamFlagThatIsNotDeclared) {
  Error e = ParseError("app: web\nparameters:\n  label: {default: v1}\nrun: {command: [./web]}\n",
                       {{"lable", "v2"}});
  EXPECT_EQ(e.field, "parameters");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("--param lable"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("did you mean 'label'?"), std::string::npos) << e.message;
}

TEST(ParseManifest, RequiresAParameterThatHasNoDefault) {
  std::string yaml =
      "app: web\nparameters:\n  label: {description: the label}\n"
      "run: {command: [./web]}\n";
  Error e = ParseError(yaml);
  EXPECT_EQ(e.field, "parameters.label");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(e.message.find("--param label=VALUE"), std::string::npos);
  EXPECT_TRUE(ParseManifest(yaml, {{"label", "v2"}}).ok());
}

TEST(ParseManifest, RefusesAnAppNameThatIsNotPlain) {
  EXPECT_MANIFEST_ERROR("app: My_Web\nrun: {command: [./web]}\n", "app", 1, "app name 'My_Web'");
  EXPECT_MANIFEST_ERROR("run: {command: [./web]}\n", "app", 1, "missing app");
}

TEST(ParseManifest, RefusesAnEnvNameGivenTwice) {
  EXPECT_MANIFEST_ERROR(With("  env:\n    GREETING: a\n    GREETING: b\n"), "run.env.GREETING", 6,
                        "'GREETING' is given twice (first on line 5)");
  EXPECT_MANIFEST_ERROR(With("  env:\n    9LIVES: a\n"), "run.env.9LIVES", 5,
                        "not an environment variable name");
}

TEST(ParseManifest, RefusesAFieldGivenTwice) {
  EXPECT_MANIFEST_ERROR(With("bake: 1s\nbake: 2s\n"), "bake", 5, "given twice");
}

TEST(ParseManifest, RefusesADocumentThatIsNotAMap) {
  EXPECT_MANIFEST_ERROR("- app: web\n", "", 1, "must be a map");
  EXPECT_MANIFEST_ERROR("just text\n", "", 1, "must be a map");
}

TEST(ParseManifest, RefusesAnEmptyDocument) {
  EXPECT_MANIFEST_ERROR("", "", 1, "empty");
  EXPECT_MANIFEST_ERROR("# nothing but a comment\n\n", "", 1, "empty");
}

TEST(ParseManifest, RefusesTwoDocumentsInOneFile) {
  EXPECT_MANIFEST_ERROR(With("---\napp: other\n"), "", 5, "more than one YAML document");
}

TEST(ParseManifest, RefusesInputOverTheSizeLimit) {
  std::string yaml = With("# " + std::string(kMaxManifestBytes, 'x') + "\n");
  Error e = ParseError(yaml);
  EXPECT_NE(e.message.find("limit"), std::string::npos);
}

TEST(ParseManifest, RefusesParametersThatBlowTheManifestUp) {
  std::string yaml = "app: web\nparameters: { big: {} }\nrun:\n  command:\n    - ./web\n";
  for (int i = 0; i < 100; ++i) yaml += "    - ${params.big}\n";
  Error e = ParseError(yaml, {{"big", std::string(60'000, 'x')}});
  EXPECT_EQ(e.field.rfind("run.command[", 0), 0u) << e.ToString();
  EXPECT_NE(e.message.find("once parameters are substituted"), std::string::npos);
}

TEST(ParseManifest, SurvivesDeeplyNestedInput) {
  Error e = ParseError(std::string(200'000, '['));
  EXPECT_EQ(e.code, ErrorCode::kInvalidInput);
}

TEST(ParseManifest, RefusesInvalidUtf8AndNul) {
  EXPECT_MANIFEST_ERROR(With("bake: 1s\n# \xC3\x28\n"), "", 5, "UTF-8");
  EXPECT_MANIFEST_ERROR(With("  env: { X: \"a\\0b\" }\n"), "run.env.X", 4, "NUL");
}

TEST(ParseManifest, SubstitutesParametersInEveryStringValue) {
  auto r = ParseManifest(R"(app: web
parameters:
  label: { default: v1 }
  port: { default: "9000" }
  dir: { default: build }
  hc: { default: /ready }
  n: { default: "3" }
  grace: { default: 5s }
  sticky: { default: "true" }
  rate: { default: "0.5" }
run:
  command: ["./web", "--label=${params.label}", "${params.label}${params.label}"]
  artifact: ./${params.dir}/web
  env:
    GREETING: "hello ${params.label}"
    DB: { value: "${params.dir}", sticky: "${params.sticky}" }
  stopGrace: ${params.grace}
replicas: ${params.n}
route: { listen: "127.0.0.1:${params.port}" }
health: { readiness: { http: "${params.hc}" } }
strategy:
  type: canary
  canary: { steps: [ { weight: "${params.n}" }, { analysis: { maxErrorRate: "${params.rate}" } } ] }
hooks:
  postDeploy: { command: ["./notify", "${params.label}"] }
)",
                         {{"label", "v2"}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Manifest& m = r->manifest;
  EXPECT_EQ(m.run.command, (std::vector<std::string>{"./web", "--label=v2", "v2v2"}));
  EXPECT_EQ(m.run.artifact, "./build/web");
  EXPECT_EQ(m.run.env[0].value, "hello v2");
  EXPECT_EQ(m.run.env[1], (EnvVar{"DB", "build", true, ""}));
  EXPECT_EQ(m.run.stopGrace, Millis(5000));
  EXPECT_EQ(m.replicas, 3);
  EXPECT_EQ(m.route.listen, "127.0.0.1:9000");
  EXPECT_EQ(m.readiness->path, "/ready");
  EXPECT_EQ(m.strategy.canarySteps[0].weight, 3);
  EXPECT_EQ(m.strategy.canarySteps[1].analysis.maxErrorRate, 0.5);
  EXPECT_EQ(m.hooks.postDeploy->command[1], "v2");
  EXPECT_EQ(r->params, (Params{{"dir", "build"},
                               {"grace", "5s"},
                               {"hc", "/ready"},
                               {"label", "v2"},
                               {"n", "3"},
                               {"port", "9000"},
                               {"rate", "0.5"},
                               {"sticky", "true"}}));
}

TEST(ParseManifest, TypeChecksAParameterAfterResolvingIt) {
  std::string yaml =
      "app: web\nparameters: { n: { default: \"2\" } }\nrun: {command: [./web]}\n"
      "replicas: ${params.n}\n";
  EXPECT_EQ(Parse(yaml).replicas, 2);
  Error e = ParseError(yaml, {{"n", "many"}});
  EXPECT_EQ(e.field, "replicas");
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("expected an integer, got 'many' (resolved from '${params.n}')"),
            std::string::npos)
      << e.message;
  EXPECT_EQ(ParseError(yaml, {{"n", "0"}}).field, "replicas");
}

TEST(ParseManifest, LeavesOtherReferencesForTheSupervisor) {
  Manifest m =
      Parse("app: web\nrun:\n  command: [./web, \"${PORT}\", \"${HOME}/x\", \"$params\"]\n");
  EXPECT_EQ(m.run.command, (std::vector<std::string>{"./web", "${PORT}", "${HOME}/x", "$params"}));
}

TEST(ParseManifest, InsertsParameterValuesWithoutRescanningThem) {
  std::string yaml =
      "app: web\nparameters: { a: {default: x}, b: {default: y} }\n"
      "run: {command: [./web, \"${params.a}\"]}\n";
  EXPECT_EQ(Parse(yaml, {{"a", "${PORT}"}}).run.command[1], "${PORT}");
  Error e = ParseError(yaml, {{"a", "${params.b}"}});
  EXPECT_EQ(e.field, "parameters");
  EXPECT_NE(e.message.find("cannot refer to another parameter"), std::string::npos);
}

TEST(ParseManifest, ReadsEachKindOfReadinessProbe) {
  Manifest tcp = Parse(With("health: { readiness: { tcp: true } }\n"));
  EXPECT_EQ(tcp.readiness->kind, Probe::Kind::kTcp);
  EXPECT_EQ(tcp.readiness->interval, kDefaultProbeInterval);
  Manifest exec = Parse(With("health: { readiness: { exec: [./check, -q], timeout: 2s } }\n"));
  EXPECT_EQ(exec.readiness->kind, Probe::Kind::kExec);
  EXPECT_EQ(exec.readiness->command, (std::vector<std::string>{"./check", "-q"}));
  EXPECT_EQ(exec.readiness->timeout, Millis(2000));
}

TEST(ParseManifest, RefusesAProbeThatIsNotExactlyOneKind) {
  EXPECT_MANIFEST_ERROR(With("health:\n  readiness: { interval: 1s }\n"), "health.readiness", 5,
                        "no way to probe");
  EXPECT_MANIFEST_ERROR(With("health:\n  readiness:\n    http: /h\n    tcp: true\n"),
                        "health.readiness.tcp", 7, "keep one");
  EXPECT_MANIFEST_ERROR(With("health:\n  readiness: { tcp: false }\n"), "health.readiness.tcp", 5,
                        "tcp: true");
  EXPECT_MANIFEST_ERROR(With("health:\n  readiness: { http: healthz }\n"), "health.readiness.http",
                        5, "starting with '/'");
}

TEST(ParseManifest, ReadsCanarySteps) {
  Manifest m = Parse(With(R"(strategy:
  type: canary
  canary:
    steps:
      - weight: 10
      - pause: 30s
      - pause: untilResumed
      - pause: {}
      - analysis: { maxErrorRateIncrease: 0.05, failureLimit: 2 }
)"));
  const auto& s = m.strategy.canarySteps;
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].kind, CanaryStep::Kind::kWeight);
  EXPECT_EQ(s[1].pause, Millis(30'000));
  EXPECT_EQ(s[2].kind, CanaryStep::Kind::kPause);
  EXPECT_FALSE(s[2].pause.has_value());
  EXPECT_FALSE(s[3].pause.has_value());
  EXPECT_EQ(s[4].analysis.window, Millis(10'000));
  EXPECT_EQ(s[4].analysis.maxErrorRateIncrease, 0.05);
  EXPECT_EQ(s[4].analysis.failureLimit, 2);
}

TEST(ParseManifest, RefusesMalformedCanarySteps) {
  const std::string head = With("strategy:\n  type: canary\n  canary:\n    steps:\n");
  EXPECT_MANIFEST_ERROR(head + "      - weight: 101\n", "strategy.canary.steps[0].weight", 8,
                        "between 0 and 100");
  EXPECT_MANIFEST_ERROR(head + "      - { weight: 1, pause: 1s }\n", "strategy.canary.steps[0]", 8,
                        "exactly one of");
  EXPECT_MANIFEST_ERROR(head + "      - pause: forever\n", "strategy.canary.steps[0].pause", 8,
                        "untilResumed");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { maxErrorRate: 5 }\n",
                        "strategy.canary.steps[0].analysis.maxErrorRate", 8, "between 0 and 1");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { window: 5m }\n",
                        "strategy.canary.steps[0].analysis.window", 8, "between 1s and 2m");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { window: 500ms }\n",
                        "strategy.canary.steps[0].analysis.window", 8, "between 1s and 2m");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { minRequests: 0 }\n",
                        "strategy.canary.steps[0].analysis.minRequests", 8, "at least 1");
  EXPECT_MANIFEST_ERROR(With("strategy:\n  type: canary\n"), "strategy.canary", 4, "needs steps");
  EXPECT_MANIFEST_ERROR(With("strategy:\n  canary:\n    steps: [ {weight: 5} ]\n"),
                        "strategy.canary", 5, "set strategy.type: canary");
  EXPECT_MANIFEST_ERROR(With("strategy: { type: canery }\n"), "strategy.type", 4,
                        "did you mean 'canary'?");
}

TEST(ParseManifest, ReadsTheSequentialJudgeWithItsDefaultsAndTolerances) {
  const std::string head = With("strategy:\n  type: canary\n  canary:\n    steps:\n");
  Analysis plain =
      Parse(head + "      - analysis: { judge: sequential }\n").strategy.canarySteps[0].analysis;
  EXPECT_EQ(plain.judge, Analysis::Judge::kSequential);
  EXPECT_EQ(plain.falseAlarmRate, 0.001);
  EXPECT_EQ(plain.tolerance.errorRate, 0.02);
  EXPECT_FALSE(plain.tolerance.latencyPercent || plain.tolerance.latencyAdded);
  Analysis full = Parse(head +
                        "      - analysis: { judge: sequential, falseAlarmRate: 0.0005,\n"
                        "                    tolerance: { errorRate: 0.01, latency: 20% } }\n")
                      .strategy.canarySteps[0]
                      .analysis;
  EXPECT_EQ(full.falseAlarmRate, 0.0005);
  EXPECT_EQ(full.tolerance.errorRate, 0.01);
  EXPECT_EQ(full.tolerance.latencyPercent, 20);
  Analysis added =
      Parse(head + "      - analysis: { judge: sequential, tolerance: { latency: 25ms } }\n")
          .strategy.canarySteps[0]
          .analysis;
  EXPECT_EQ(added.tolerance.latencyAdded, Millis(25));
  EXPECT_EQ(Parse(head + "      - analysis: {}\n").strategy.canarySteps[0].analysis.judge,
            Analysis::Judge::kThreshold);
}

TEST(ParseManifest, RefusesSequentialJudgeSettingsThatCannotWorkWithFieldAndLine) {
  const std::string head = With("strategy:\n  type: canary\n  canary:\n    steps:\n");
  const std::string at = "strategy.canary.steps[0].analysis.";
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { judge: sequentail }\n", at + "judge", 8,
                        "did you mean 'sequential'?");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { judge: sequential, falseAlarmRate: 0 }\n",
                        at + "falseAlarmRate", 8, "above 0 and at most 0.1");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { judge: sequential, falseAlarmRate: 0.5 }\n",
                        at + "falseAlarmRate", 8, "above 0 and at most 0.1");
  EXPECT_MANIFEST_ERROR(
      head + "      - analysis: { judge: sequential, tolerance: { errorRate: 0 } }\n",
      at + "tolerance.errorRate", 8, "no canary could ever be shown within it");
  EXPECT_MANIFEST_ERROR(
      head + "      - analysis: { judge: sequential, tolerance: { latency: 0% } }\n",
      at + "tolerance.latency", 8, "above 0% and at most 1000%");
  EXPECT_MANIFEST_ERROR(
      head + "      - analysis: { judge: sequential, tolerance: { latency: fast } }\n",
      at + "tolerance.latency", 8, "like 20%");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { judge: sequential, tolerance: { p99: 1s } }\n",
                        at + "tolerance.p99", 8, "");
}

TEST(ParseManifest, RefusesOneJudgesFieldsUnderTheOtherInsteadOfIgnoringThem) {
  const std::string head = With("strategy:\n  type: canary\n  canary:\n    steps:\n");
  const std::string at = "strategy.canary.steps[0].analysis.";
  EXPECT_MANIFEST_ERROR(head +
                            "      - analysis:\n          judge: sequential\n"
                            "          maxErrorRate: 0.01\n",
                        at + "maxErrorRate", 10, "belongs to judge: threshold");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { tolerance: { errorRate: 0.01 } }\n",
                        at + "tolerance", 8, "add judge: sequential");
  EXPECT_MANIFEST_ERROR(head + "      - analysis: { judge: threshold, falseAlarmRate: 0.01 }\n",
                        at + "falseAlarmRate", 8, "belongs to judge: sequential");
}

TEST(ParseManifest, AcceptsOnlyAddressesTheRouterCanListenOn) {
  for (const char* good : {"127.0.0.1:8080", "localhost:1", "0.0.0.0:65535", "10.1.2.3:80"}) {
    EXPECT_EQ(Parse(With(std::string("route: { listen: \"") + good + "\" }\n")).route.listen, good);
  }
  for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "example.com:80",
                          "127.0.0.1:http", ":8080", "[::1]:80", "127.0.0.1:08080"}) {
    Error e = ParseError(With(std::string("route:\n  listen: \"") + bad + "\"\n"));
    EXPECT_EQ(e.field, "route.listen") << bad;
    EXPECT_EQ(e.line, 5) << bad;
    EXPECT_NE(e.message.find("host:port"), std::string::npos) << e.message;
  }
  EXPECT_MANIFEST_ERROR(With("route:\n  listen: 127.0.0.1:80\n  preview: 127.0.0.1:80\n"),
                        "route.preview", 6, "same address");
}

TEST(ParseManifest, ReadsTheRollbackPolicy) {
  EXPECT_EQ(Parse(With("rollback: { onError: none }\n")).rollback.onError, "none");
  EXPECT_EQ(Parse(With("rollback: { onError: release-7 }\n")).rollback.onError, "release-7");
  EXPECT_MANIFEST_ERROR(With("rollback:\n  onError: LastSuccessful\n"), "rollback.onError", 5,
                        "did you mean 'lastSuccessful'?");
}

TEST(ParseManifest, RequiresACommandForEachHook) {
  EXPECT_MANIFEST_ERROR(With("hooks:\n  preRollback:\n    timeout: 5s\n"),
                        "hooks.preRollback.command", 5, "missing command");
  EXPECT_MANIFEST_ERROR(With("hooks:\n  postDeploy: { command: [./n], timeout: 0s }\n"),
                        "hooks.postDeploy.timeout", 5, "longer than zero");
}

TEST(ParseManifest, RefusesAnEnvValueThatIsNeitherStringNorValueMap) {
  EXPECT_MANIFEST_ERROR(With("  env:\n    A: [1]\n"), "run.env.A", 5, "expected a string,");
  EXPECT_MANIFEST_ERROR(With("  env:\n    A: { sticky: true }\n"), "run.env.A", 5, "missing value");
  EXPECT_MANIFEST_ERROR(With("  env:\n    A: { value: x, sticky: yes }\n"), "run.env.A.sticky", 5,
                        "true or false");
}

TEST(ParseManifest, ReadsAnEnvSecretReferenceWithWhereItIsWritten) {
  auto r = ParseManifest(With("  env:\n    GREETING: hi\n"
                              "    DB_PASSWORD: { secret: db-password }\n"
                              "    TLS_KEY: { secret: \"tls-${params.env}\", sticky: true }\n"
                              "parameters:\n  env: { default: prod }\n"),
                         {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const auto& env = r->manifest.run.env;
  ASSERT_EQ(env.size(), 3u);
  EXPECT_EQ(env[1], (EnvVar{"DB_PASSWORD", "", false, "db-password"}));
  EXPECT_EQ(env[2], (EnvVar{"TLS_KEY", "", true, "tls-prod"}));
  ASSERT_EQ(r->secrets.size(), 2u);
  EXPECT_EQ(r->secrets[0].env, "DB_PASSWORD");
  EXPECT_EQ(r->secrets[0].secret, "db-password");
  EXPECT_EQ(r->secrets[0].field, "run.env.DB_PASSWORD.secret");
  EXPECT_EQ(r->secrets[0].line, 6);
  EXPECT_EQ(r->secrets[1].line, 7);
}

TEST(ParseManifest, RefusesASecretReferenceThatIsNotAPlainNameOrHasAValueToo) {
  EXPECT_MANIFEST_ERROR(With("  env:\n    A: { secret: DB_PASSWORD }\n"), "run.env.A.secret", 5,
                        "secret name 'DB_PASSWORD'");
  EXPECT_MANIFEST_ERROR(With("  env:\n    A: { secret: \"\" }\n"), "run.env.A.secret", 5,
                        "secret name");
  EXPECT_MANIFEST_ERROR(With("  env:\n    A: { value: x, secret: a }\n"), "run.env.A.secret", 5,
                        "either value or secret");
  EXPECT_MANIFEST_ERROR(With("  env:\n    A: { sekret: a }\n"), "run.env.A.sekret", 5, "secret");
}

TEST(ParseManifest, RefusesASecretInTheCommandsArgumentsWhereEveryUserCouldReadIt) {
  std::string yaml =
      "app: web\nrun:\n  command: [\"./web\", \"--password=${DB_PASSWORD}\"]\n"
      "  env:\n    DB_PASSWORD: { secret: db-password }\n";
  EXPECT_MANIFEST_ERROR(yaml, "run.command[1]", 3, "visible to every local user");
  // A variable that is not a secret may be passed as an argument.
  EXPECT_TRUE(ParseManifest("app: web\nrun:\n  command: [\"./web\", \"${MODE}\"]\n"
                            "  env:\n    MODE: fast\n    DB: { secret: db }\n",
                            {})
                  .ok());
}

TEST(StrategyName, NamesEachType) {
  EXPECT_STREQ(StrategyName(Strategy::Type::kRecreate), "recreate");
  EXPECT_STREQ(StrategyName(Strategy::Type::kRolling), "rolling");
  EXPECT_STREQ(StrategyName(Strategy::Type::kBlueGreen), "bluegreen");
  EXPECT_STREQ(StrategyName(Strategy::Type::kCanary), "canary");
}

TEST(ParseManifest, ReadsTheSampleManifestWithItsDefaults) {
  auto r = ParseManifest(ReadFile(LASTGOOD_SOURCE_DIR "/examples/sample.yaml"), {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Manifest& m = r->manifest;
  EXPECT_EQ(m.app, "web");
  EXPECT_EQ(m.replicas, 2);
  EXPECT_EQ(m.route.listen, "127.0.0.1:8080");
  EXPECT_EQ(m.run.artifact, "../build/lastgood-sample");
  EXPECT_EQ(m.run.command,
            (std::vector<std::string>{"./lastgood-sample", "--port", "${PORT}", "--label", "v1",
                                      "--fail-rate", "0", "--latency-ms", "0", "--startup-ms", "0",
                                      "--crash-on-start", "false", "--healthy", "true"}));
  EXPECT_EQ(m.run.env[0], (EnvVar{"GREETING", "hello v1", false, ""}));
  EXPECT_TRUE(m.run.env[1].sticky);
  EXPECT_EQ(m.readiness->interval, Millis(200));
  EXPECT_EQ(m.progressDeadline, Millis(30'000));
  EXPECT_EQ(m.bake, Millis(1000));
  EXPECT_EQ(r->params.size(), 8u);

  auto v2 = ParseManifest(ReadFile(LASTGOOD_SOURCE_DIR "/examples/sample.yaml"),
                          {{"label", "v2"}, {"replicas", "3"}, {"port", "9090"}});
  ASSERT_TRUE(v2.ok()) << v2.error().ToString();
  EXPECT_EQ(v2->manifest.run.command[4], "v2");
  EXPECT_EQ(v2->manifest.replicas, 3);
  EXPECT_EQ(v2->manifest.route.listen, "127.0.0.1:9090");
}

TEST(ParseManifest, EachBadExampleFailsWhereItsCommentSays) {
  struct Case {
    const char* file;
    const char* field;
    int line;
  };
  for (const Case& c :
       {Case{"unknown-field", "replica", 5}, Case{"wrong-type", "replicas", 5},
        Case{"negative-replicas", "replicas", 5}, Case{"missing-command", "run.command", 3},
        Case{"bad-duration", "progressDeadline", 5}, Case{"broken-yaml", "", 5},
        Case{"undefined-param", "run.command[4]", 5}, Case{"bad-app-name", "app", 2}}) {
    std::string text =
        ReadFile(std::string(LASTGOOD_SOURCE_DIR "/examples/bad/") + c.file + ".yaml");
    ASSERT_EQ(text.rfind("# Bad:", 0), 0u) << c.file;
    Error e = ParseError(text);
    EXPECT_EQ(e.field, c.field) << c.file << ": " << e.ToString();
    EXPECT_EQ(e.line, c.line) << c.file << ": " << e.ToString();
  }
}

}  // namespace
}  // namespace lastgood
