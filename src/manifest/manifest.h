// Manifest: the validated, parameter-resolved spec of an app (DESIGN.md section 5).
//
// A Manifest is a plain value. It is produced only by ParseManifest (manifest/parser.h),
// which guarantees every invariant documented on the fields below, and rendered back to
// canonical YAML by ToCanonicalYaml (manifest/canonical.h); the canonical text is what a
// version stores, shows and diffs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"

namespace lastgood {

// Default values, used by the parser when a field is absent and by the docs.
inline constexpr int kDefaultReplicas = 1;
inline constexpr Millis kDefaultProbeInterval{1000};
inline constexpr Millis kDefaultProbeTimeout{1000};
inline constexpr int kDefaultFailureThreshold = 3;
inline constexpr Millis kDefaultProgressDeadline{60'000};
inline constexpr Millis kDefaultBake{0};
inline constexpr Millis kDefaultKeepPrevious{0};
inline constexpr Millis kDefaultStopGrace{10'000};
inline constexpr Millis kDefaultHookTimeout{60'000};

struct EnvVar {
  std::string name;     // a valid environment variable name
  std::string value;    // parameters resolved; "${PORT}" etc. are left for the supervisor
  bool sticky = false;  // stays with its slot on swap
  // Non-empty: the variable takes the value of the app's secret of this name (a plain name),
  // resolved when an instance or hook starts (docs/secrets.md); `value` is then empty. A
  // version records this name, never the value.
  std::string secret;
  bool operator==(const EnvVar&) const = default;
};

struct Run {
  std::vector<std::string> command;  // argv, non-empty; command[0] non-empty
  std::string artifact;     // as written (a path relative to the manifest's folder), or empty
  std::vector<EnvVar> env;  // in the order written; names unique
  Millis stopGrace = kDefaultStopGrace;  // SIGTERM → SIGKILL
  // An existing user to run as instead of the app's own uid (the controller as root only;
  // checked at apply: process/confinement.h). Empty: the app's own.
  std::string user;
  bool operator==(const Run&) const = default;
};

struct Probe {
  enum class Kind { kHttp, kTcp, kExec };
  Kind kind = Kind::kHttp;
  std::string path;                                 // kHttp: starts with '/'
  std::vector<std::string> command;                 // kExec: argv, non-empty
  Millis interval = kDefaultProbeInterval;          // > 0
  Millis timeout = kDefaultProbeTimeout;            // > 0
  int failureThreshold = kDefaultFailureThreshold;  // >= 1
  bool operator==(const Probe&) const = default;
};

struct Route {
  std::string listen;   // "host:port" for production traffic, or empty
  std::string preview;  // "host:port" for the staging slot, or empty
  // Whether clients may pick a slot by X-Lastgood-Slot, ?lastgood-slot= or the
  // lastgood-slot cookie (`slotPinning: on|off`); off leaves it to the listener and the split.
  bool slotPinning = true;
  // Proxies in front of the router whose X-Forwarded-* fields are kept (CIDR networks).
  std::vector<std::string> trustedProxies;
  int maxConnectionsPerClient = 0;  // per client address and listener; 0: no limit
  bool operator==(const Route&) const = default;
};

// A check an analysis runs once per window, besides the router's measurements: a command
// (passes on exit 0) or an HTTP GET on every canary instance (passes on 2xx).
struct AnalysisCheck {
  enum class Kind { kExec, kHttp };
  Kind kind = Kind::kExec;
  std::vector<std::string> command;  // kExec: argv
  std::string path;                  // kHttp: starts with '/'
  Millis timeout{10'000};
  bool operator==(const AnalysisCheck&) const = default;
};

// With no limit given, maxErrorRate is 1% (kDefaultMaxErrorRate): an analysis always judges
// something.
inline constexpr double kDefaultMaxErrorRate = 0.01;
// The router keeps kStatsWindowSeconds (router/stats_window.h) of 1-second buckets; a longer
// window could not be measured; a longer watch is several analysis steps in a row.
inline constexpr Millis kMaxAnalysisWindow{120'000};

// The sequential judge's settings (health/sequential_judge.h; docs/behaviour.md): how often a
// canary within the tolerance may be failed, and how much worse than stable it may be. The
// defaults are the same as health's JudgeOptions.
inline constexpr double kDefaultFalseAlarmRate = 0.001;
inline constexpr double kMaxFalseAlarmRate = 0.1;
inline constexpr double kDefaultErrorRateTolerance = 0.02;

struct AnalysisTolerance {
  double errorRate = kDefaultErrorRateTolerance;  // points, 0 < t < 1
  // Latency is judged only when one is given: the canary's p99 may be up to stable's p99 *
  // (1 + latencyPercent / 100) (`latency: 20%`), or + latencyAdded (`latency: 25ms`).
  std::optional<double> latencyPercent;
  std::optional<Millis> latencyAdded;
  bool operator==(const AnalysisTolerance&) const = default;
};

// A query to a Prometheus server that an analysis also judges (docs/manifest.md,
// analysis.prometheus): every value of its answer must lie within [min, max]. The query may
// hold {{canary}}, {{stable}}, {{app}} and {{slot}}, filled in when the analysis runs.
struct PrometheusQuery {
  std::string name;                // [a-z0-9_-], unique in its analysis: named in the step's detail
  std::string query;               // PromQL
  std::optional<double> min, max;  // at least one
  bool operator==(const PrometheusQuery&) const = default;
};

inline constexpr int kMaxPrometheusQueries = 10;
inline constexpr size_t kMaxPrometheusQueryBytes = 4096;

struct PrometheusAnalysis {
  std::string address;  // http(s)://HOST[:PORT][/PREFIX]
  std::vector<PrometheusQuery> queries;
  bool operator==(const PrometheusAnalysis&) const = default;
};

struct Analysis {
  // threshold: the window against fixed limits (the default); sequential: the canary against
  // stable with a confidence (falseAlarmRate, tolerance).
  enum class Judge { kThreshold, kSequential };
  Judge judge = Judge::kThreshold;
  double falseAlarmRate = kDefaultFalseAlarmRate;  // kSequential
  AnalysisTolerance tolerance;                     // kSequential
  Millis window{10'000};
  int minRequests = 50;
  std::optional<double> maxErrorRate;  // 0..1
  std::optional<Millis> maxLatencyP99;
  std::optional<double> maxErrorRateIncrease;  // 0..1, relative to stable
  int failureLimit = 0;                        // failed windows tolerated
  std::vector<AnalysisCheck> checks;
  std::optional<PrometheusAnalysis> prometheus;  // judged beside the router's numbers
  bool operator==(const Analysis&) const = default;
};

struct RollingStrategy {
  int maxSurge = 1;        // >= 0
  int maxUnavailable = 0;  // >= 0; maxSurge + maxUnavailable >= 1
  // Fleet deployments only (docs/fleets.md): judged after each wave on the hosts' merged
  // router counts, the wave's version against the previous one wherever it still serves.
  std::optional<Analysis> analysis;
  bool operator==(const RollingStrategy&) const = default;
};

struct CanaryStep {
  enum class Kind { kWeight, kPause, kAnalysis };
  Kind kind = Kind::kWeight;
  int weight = 0;               // kWeight: 0..100
  std::optional<Millis> pause;  // kPause: a duration, or nullopt = until `resume`
  Analysis analysis;            // kAnalysis
  bool operator==(const CanaryStep&) const = default;
};

struct Hook {
  std::vector<std::string> command;  // argv, non-empty
  Millis timeout = kDefaultHookTimeout;
  bool operator==(const Hook&) const = default;
};

// bluegreen: the new version starts in the preview slot and is verified there before the
// swap: readiness, then the smoke test (if any), then the analysis of preview traffic (if any).
struct BlueGreenStrategy {
  std::optional<Hook> smokeTest;
  std::optional<Analysis> analysis;
  bool operator==(const BlueGreenStrategy&) const = default;
};

struct Strategy {
  enum class Type { kRecreate, kRolling, kBlueGreen, kCanary };
  Type type = Type::kRolling;
  RollingStrategy rolling;
  std::vector<CanaryStep> canarySteps;
  BlueGreenStrategy blueGreen;
  bool operator==(const Strategy&) const = default;
};

// A named slot's options (`slots: { staging: { autoSwap: true } }`).
struct SlotOptions {
  bool autoSwap = false;  // swap into production after each successful deployment to it
  bool operator==(const SlotOptions&) const = default;
};

// `history:` — the retention policy (manifest/history.h, history/retention.h).
struct HistoryPolicy {
  int keep = 0;  // ended deployment records kept per app (>= 10); 0: all
  bool operator==(const HistoryPolicy&) const = default;
};

// How a swap warms the source's instances up before it switches (App Service's
// WEBSITE_SWAP_WARMUP_PING_PATH / _STATUSES): GET warmupPath on each until it answers one
// of warmupStatuses. No path: readiness alone.
struct SwapOptions {
  std::string warmupPath;
  std::vector<int> warmupStatuses;  // empty: any 2xx
  bool operator==(const SwapOptions&) const = default;
};

struct Hooks {
  std::optional<Hook> preDeploy, postDeploy, preRollback, postRollback;
  bool operator==(const Hooks&) const = default;
};

// Webhook event names, in the order they are documented (docs/notifications.md).
inline constexpr const char* kWebhookEvents[] = {"started", "succeeded", "failed", "rolledBack",
                                                 "canceled"};

// A webhook's secretEnv must name a variable with this prefix: the controller's environment
// holds other secrets (cloud credentials, the store's password), and a manifest's author,
// who picks the receiver, must not have any of them used as the signing key.
inline constexpr char kWebhookSecretEnvPrefix[] = "LASTGOOD_WEBHOOK_";

struct Webhook {
  std::string url;                  // http:// or https://, host and optional port checked
  std::vector<std::string> events;  // names from kWebhookEvents, unique; all when not written
  std::string secretEnv;  // kWebhookSecretEnvPrefix…: the controller's env var of the HMAC key
  bool operator==(const Webhook&) const = default;
};

struct Notifications {
  std::vector<Webhook> webhooks;  // at most kMaxWebhooks (manifest/sections.h)
  bool operator==(const Notifications&) const = default;
};

struct RollbackPolicy {
  // "lastSuccessful" (the default), "none", or the name of a deployment of this app.
  std::string onError = "lastSuccessful";
  Millis keepPrevious = kDefaultKeepPrevious;
  bool operator==(const RollbackPolicy&) const = default;
};

// A number of hosts as written: a count ("3") or a percent of the resolved hosts ("25%").
struct HostCount {
  int value = 0;
  bool percent = false;
  bool operator==(const HostCount&) const = default;
};

inline constexpr int kDefaultMaxParallel = 10;

// `hosts:`, `waves:`, `maxFailedHosts:`, `maxParallel:` — where a fleet deployment runs and in
// what steps (issue 14, manifest/fleet.h, docs/fleets.md). Empty hosts and selector: the
// controller's own machine, as without a fleet.
struct FleetSpec {
  std::vector<std::string> hosts;               // `hosts: [web1, web2]`: plain names, unique
  std::map<std::string, std::string> selector;  // `hosts: { selector: { role: web } }`
  std::vector<HostCount> waves;                 // cumulative; empty: one wave of every host
  HostCount maxFailedHosts;                     // over the whole deployment; default 0
  int maxParallel = kDefaultMaxParallel;        // hosts updated at once within a wave, >= 1
  bool enabled() const { return !hosts.empty() || !selector.empty(); }
  bool operator==(const FleetSpec&) const = default;
};

struct Manifest {
  std::string app;  // a plain name (base/names.h)
  Run run;
  int replicas = kDefaultReplicas;  // >= 1
  Route route;
  std::optional<Probe> readiness;
  Strategy strategy;
  Millis progressDeadline = kDefaultProgressDeadline;  // > 0
  Millis bake = kDefaultBake;
  RollbackPolicy rollback;
  Hooks hooks;
  std::map<std::string, SlotOptions> slots;  // by slot name (plain names, not production)
  SwapOptions swap;
  Notifications notifications;
  HistoryPolicy history;
  FleetSpec fleet;
  bool operator==(const Manifest&) const = default;
};

const char* StrategyName(Strategy::Type type);  // "recreate", "rolling", …

}  // namespace lastgood
