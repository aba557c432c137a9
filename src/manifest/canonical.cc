#include "manifest/canonical.h"

#include <yaml-cpp/yaml.h>

#include <charconv>

#include "manifest/fleet.h"
#include "manifest/history.h"

namespace lastgood {
namespace {

// Every free-form string is double-quoted, so that no value ("yes", "123", "", " x", "#")
// can be read back as another type or lose characters, by us or by any other YAML reader.
void Str(YAML::Emitter& out, const std::string& s) { out << YAML::DoubleQuoted << s; }

void Key(YAML::Emitter& out, const char* key) { out << YAML::Key << key << YAML::Value; }

void Duration(YAML::Emitter& out, const char* key, Millis d) {
  Key(out, key);
  out << FormatDuration(d);
}

// The shortest text that reads back as exactly the same double.
void Number(YAML::Emitter& out, const char* key, double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  Key(out, key);
  out << std::string(buf, ec == std::errc() ? end : buf);
}

void Argv(YAML::Emitter& out, const char* key, const std::vector<std::string>& argv) {
  Key(out, key);
  out << YAML::Flow << YAML::BeginSeq;
  for (const auto& arg : argv) Str(out, arg);
  out << YAML::EndSeq;
}

void EmptyMap(YAML::Emitter& out) { out << YAML::Flow << YAML::BeginMap << YAML::EndMap; }

void WriteRun(YAML::Emitter& out, const Run& run) {
  Key(out, "run");
  out << YAML::BeginMap;
  Argv(out, "command", run.command);
  if (!run.artifact.empty()) {
    Key(out, "artifact");
    Str(out, run.artifact);
  }
  Key(out, "env");
  if (run.env.empty()) {
    EmptyMap(out);
  } else {
    out << YAML::BeginMap;
    for (const auto& var : run.env) {
      Key(out, var.name.c_str());
      out << YAML::Flow << YAML::BeginMap;
      // A secret is recorded by its name; its value never reaches a version.
      Key(out, var.secret.empty() ? "value" : "secret");
      Str(out, var.secret.empty() ? var.value : var.secret);
      Key(out, "sticky");
      out << var.sticky;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  Duration(out, "stopGrace", run.stopGrace);
  if (!run.user.empty()) {
    Key(out, "user");
    Str(out, run.user);
  }
  out << YAML::EndMap;
}

void WriteRoute(YAML::Emitter& out, const Route& route) {
  Key(out, "route");
  if (route == Route{}) return EmptyMap(out);
  out << YAML::BeginMap;
  if (!route.listen.empty()) {
    Key(out, "listen");
    Str(out, route.listen);
  }
  if (!route.preview.empty()) {
    Key(out, "preview");
    Str(out, route.preview);
  }
  // Written only when not the default: a manifest from before these fields keeps its digest.
  if (!route.slotPinning) {
    Key(out, "slotPinning");
    out << "off";
  }
  if (!route.trustedProxies.empty()) {
    Key(out, "trustedProxies");
    out << YAML::BeginSeq;
    for (const auto& network : route.trustedProxies) Str(out, network);
    out << YAML::EndSeq;
  }
  if (route.maxConnectionsPerClient > 0) {
    Key(out, "maxConnectionsPerClient");
    out << route.maxConnectionsPerClient;
  }
  out << YAML::EndMap;
}

void WriteHealth(YAML::Emitter& out, const std::optional<Probe>& readiness) {
  Key(out, "health");
  if (!readiness) return EmptyMap(out);
  out << YAML::BeginMap;
  Key(out, "readiness");
  out << YAML::BeginMap;
  switch (readiness->kind) {
    case Probe::Kind::kHttp:
      Key(out, "http");
      Str(out, readiness->path);
      break;
    case Probe::Kind::kTcp:
      Key(out, "tcp");
      out << true;
      break;
    case Probe::Kind::kExec:
      Argv(out, "exec", readiness->command);
      break;
  }
  Duration(out, "interval", readiness->interval);
  Duration(out, "timeout", readiness->timeout);
  Key(out, "failureThreshold");
  out << readiness->failureThreshold;
  out << YAML::EndMap << YAML::EndMap;
}

void WriteAnalysis(YAML::Emitter& out, const Analysis& a) {
  Key(out, "analysis");
  out << YAML::BeginMap;
  // The threshold judge is written as before the sequential one existed, so that no version
  // stored then reads as different content now.
  if (a.judge == Analysis::Judge::kSequential) {
    Key(out, "judge");
    out << "sequential";
    Number(out, "falseAlarmRate", a.falseAlarmRate);
    Key(out, "tolerance");
    out << YAML::Flow << YAML::BeginMap;
    Number(out, "errorRate", a.tolerance.errorRate);
    if (a.tolerance.latencyPercent) {
      Key(out, "latency");
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *a.tolerance.latencyPercent);
      out << std::string(buf, ec == std::errc() ? end : buf) + "%";
    } else if (a.tolerance.latencyAdded) {
      Duration(out, "latency", *a.tolerance.latencyAdded);
    }
    out << YAML::EndMap;
  }
  Duration(out, "window", a.window);
  Key(out, "minRequests");
  out << a.minRequests;
  if (a.maxErrorRate) Number(out, "maxErrorRate", *a.maxErrorRate);
  if (a.maxLatencyP99) Duration(out, "maxLatencyP99", *a.maxLatencyP99);
  if (a.maxErrorRateIncrease) Number(out, "maxErrorRateIncrease", *a.maxErrorRateIncrease);
  if (a.judge == Analysis::Judge::kThreshold) {
    Key(out, "failureLimit");
    out << a.failureLimit;
  }
  if (!a.checks.empty()) {
    Key(out, "checks");
    out << YAML::BeginSeq;
    for (const auto& c : a.checks) {
      out << YAML::Flow << YAML::BeginMap;
      if (c.kind == AnalysisCheck::Kind::kExec) {
        Argv(out, "command", c.command);
      } else {
        Key(out, "http");
        Str(out, c.path);
      }
      Duration(out, "timeout", c.timeout);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (a.prometheus) {
    Key(out, "prometheus");
    out << YAML::BeginMap;
    Key(out, "address");
    Str(out, a.prometheus->address);
    Key(out, "queries");
    out << YAML::BeginSeq;
    for (const auto& q : a.prometheus->queries) {
      out << YAML::BeginMap;
      Key(out, "name");
      Str(out, q.name);
      Key(out, "query");
      Str(out, q.query);
      if (q.min) Number(out, "min", *q.min);
      if (q.max) Number(out, "max", *q.max);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void WriteStep(YAML::Emitter& out, const CanaryStep& step) {
  out << YAML::BeginMap;
  switch (step.kind) {
    case CanaryStep::Kind::kWeight:
      Key(out, "weight");
      out << step.weight;
      break;
    case CanaryStep::Kind::kPause:
      if (step.pause) {
        Duration(out, "pause", *step.pause);
      } else {
        Key(out, "pause");
        out << "untilResumed";
      }
      break;
    case CanaryStep::Kind::kAnalysis:
      WriteAnalysis(out, step.analysis);
      break;
  }
  out << YAML::EndMap;
}

void WriteBlueGreen(YAML::Emitter& out, const BlueGreenStrategy& b) {
  if (b == BlueGreenStrategy{}) return;  // absent before this option existed: same digest
  Key(out, "bluegreen");
  out << YAML::BeginMap;
  if (b.smokeTest) {
    Key(out, "smokeTest");
    out << YAML::BeginMap;
    Argv(out, "command", b.smokeTest->command);
    Duration(out, "timeout", b.smokeTest->timeout);
    out << YAML::EndMap;
  }
  if (b.analysis) WriteAnalysis(out, *b.analysis);
  out << YAML::EndMap;
}

// Written only when not the defaults, so that older manifests keep their canonical text.
void WriteSlotsAndSwap(YAML::Emitter& out, const Manifest& m) {
  if (!m.slots.empty()) {
    Key(out, "slots");
    out << YAML::BeginMap;
    for (const auto& [name, options] : m.slots) {
      Key(out, name.c_str());
      out << YAML::Flow << YAML::BeginMap;
      Key(out, "autoSwap");
      out << options.autoSwap;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  if (!(m.swap == SwapOptions{})) {
    Key(out, "swap");
    out << YAML::BeginMap;
    if (!m.swap.warmupPath.empty()) {
      Key(out, "warmupPath");
      Str(out, m.swap.warmupPath);
    }
    if (!m.swap.warmupStatuses.empty()) {
      Key(out, "warmupStatuses");
      out << YAML::Flow << YAML::BeginSeq;
      for (int status : m.swap.warmupStatuses) out << status;
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
}

void WriteStrategy(YAML::Emitter& out, const Strategy& s) {
  Key(out, "strategy");
  out << YAML::BeginMap;
  Key(out, "type");
  out << StrategyName(s.type);
  Key(out, "rolling");
  out << YAML::BeginMap;
  Key(out, "maxSurge");
  out << s.rolling.maxSurge;
  Key(out, "maxUnavailable");
  out << s.rolling.maxUnavailable;
  // Written only when set, so that a manifest without it keeps its content hash.
  if (s.rolling.analysis) WriteAnalysis(out, *s.rolling.analysis);
  out << YAML::EndMap;
  Key(out, "canary");
  out << YAML::BeginMap;
  Key(out, "steps");
  if (s.canarySteps.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const auto& step : s.canarySteps) WriteStep(out, step);
  out << YAML::EndSeq << YAML::EndMap;
  WriteBlueGreen(out, s.blueGreen);
  out << YAML::EndMap;
}

void WriteHooks(YAML::Emitter& out, const Hooks& hooks) {
  Key(out, "hooks");
  const std::pair<const char*, const std::optional<Hook>*> all[] = {
      {"preDeploy", &hooks.preDeploy},
      {"postDeploy", &hooks.postDeploy},
      {"preRollback", &hooks.preRollback},
      {"postRollback", &hooks.postRollback}};
  if (hooks == Hooks{}) return EmptyMap(out);
  out << YAML::BeginMap;
  for (const auto& [name, hook] : all) {
    if (!*hook) continue;
    Key(out, name);
    out << YAML::BeginMap;
    Argv(out, "command", (*hook)->command);
    Duration(out, "timeout", (*hook)->timeout);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

// Written only when there are webhooks, so that manifests without any keep the canonical
// text (and so the digest) that versions stored before this section existed have.
void WriteNotifications(YAML::Emitter& out, const Notifications& n) {
  if (n.webhooks.empty()) return;
  Key(out, "notifications");
  out << YAML::BeginMap;
  Key(out, "webhooks");
  out << YAML::BeginSeq;
  for (const auto& hook : n.webhooks) {
    out << YAML::BeginMap;
    Key(out, "url");
    Str(out, hook.url);
    Key(out, "events");
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& event : hook.events) out << event;
    out << YAML::EndSeq;
    if (!hook.secretEnv.empty()) {
      Key(out, "secretEnv");
      Str(out, hook.secretEnv);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
}

}  // namespace

std::string ToCanonicalYaml(const Manifest& m) {
  YAML::Emitter out;
  out.SetBoolFormat(YAML::TrueFalseBool);
  out.SetIndent(2);
  out << YAML::BeginMap;
  Key(out, "app");
  Str(out, m.app);
  WriteRun(out, m.run);
  Key(out, "replicas");
  out << m.replicas;
  WriteRoute(out, m.route);
  WriteHealth(out, m.readiness);
  WriteStrategy(out, m.strategy);
  Duration(out, "progressDeadline", m.progressDeadline);
  Duration(out, "bake", m.bake);
  Key(out, "rollback");
  out << YAML::BeginMap;
  Key(out, "onError");
  Str(out, m.rollback.onError);
  Duration(out, "keepPrevious", m.rollback.keepPrevious);
  out << YAML::EndMap;
  WriteHooks(out, m.hooks);
  WriteSlotsAndSwap(out, m);
  WriteNotifications(out, m.notifications);
  manifest_internal::WriteHistory(out, m.history);
  manifest_internal::WriteFleet(out, m.fleet);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace lastgood
