#include "api/json.h"

#include <algorithm>

#include "api/handlers.h"
#include "base/clock.h"

namespace lastgood {
namespace {

// The deepest nesting of arrays and objects in `text`, counting brackets outside strings; it
// stops counting once past `limit`. Checked before parsing so that a hostile body is
// refused in linear time and the parser never builds (or recursively destroys) a deep tree.
int NestingDepth(const std::string& text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json TimeOrNull(int64_t millis) {
  return millis > 0 ? nlohmann::json(FormatTimestamp(millis)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json VersionJson(const Version& v) {
  return {{"version", v.number},
          {"digest", v.digest.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.digest)},
          {"contentHash", v.contentHash},
          {"createdAt", TimeOrNull(v.createdAt)},
          {"promotedFrom", v.promotedFrom ? nlohmann::json(*v.promotedFrom) : nullptr},
          {"verdict", VerdictName(v.verdict)},
          {"params", nlohmann::json::parse(v.params.empty() ? "{}" : v.params, nullptr, false)}};
}

nlohmann::json DeploymentJson(const Deployment& d, bool with_operations) {
  nlohmann::json j = {{"name", d.name},
                      {"version", d.version},
                      {"fromVersion", d.fromVersion},
                      {"slot", d.slot},
                      {"kind", KindName(d.kind)},
                      {"strategy", d.strategy},
                      {"trigger", TriggerName(d.trigger)},
                      {"actor", d.actor},
                      {"state", StateName(d.state)},
                      {"reason", d.reason},
                      {"startedAt", TimeOrNull(d.startedAt)},
                      {"finishedAt", TimeOrNull(d.finishedAt)}};
  if (with_operations) {
    j["durationMs"] = d.finishedAt > 0 ? d.finishedAt - d.startedAt : 0;
    auto ops = nlohmann::json::array();
    for (const auto& op : d.operations) {
      ops.push_back({{"step", op.step},
                     {"host", op.host.empty() ? nlohmann::json(nullptr) : nlohmann::json(op.host)},
                     {"state", OperationStateName(op.state)},
                     {"startedAt", TimeOrNull(op.startedAt)},
                     {"finishedAt", TimeOrNull(op.finishedAt)},
                     {"durationMs", op.finishedAt > 0 ? op.finishedAt - op.startedAt : 0},
                     {"detail", op.detail}});
    }
    j["operations"] = ops;
  }
  return j;
}

nlohmann::json OutcomeJson(const Outcome& o) {
  return {
      {"app", o.app},
      {"noop", o.noop},
      {"whatIf", o.whatIf},
      {"newVersion", o.newVersion},
      {"version", o.version},
      {"fromVersion", o.fromVersion},
      {"deployment", o.deployment.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.deployment)},
      {"kind", o.kind},
      {"strategy", o.strategy},
      {"slot", o.slot},
      {"message", o.message},
      {"plan", o.plan},
      {"diff", o.diff}};
}

namespace {

// {"step", "active", "judge", "sequential": {"falseAlarmRate", "tolerance": {"errorRate",
// "latencyPercent", "latencyAddedMs"}} | null, "windowMs", "minRequests", "limits":
// {"maxErrorRate", "maxLatencyP99Ms", "maxErrorRateIncrease", "failureLimit"}, "windows":
// [last window, or the sequential judge's words so far]}. A limit not set is null, except
// maxErrorRate, which has its default when nothing is set under the threshold judge.
nlohmann::json AnalysisJson(const AnalysisView& v) {
  const Analysis& a = v.spec;
  auto or_null = [](const auto& opt) { return opt ? nlohmann::json(*opt) : nlohmann::json(); };
  const bool sequential = a.judge == Analysis::Judge::kSequential;
  std::optional<double> max_rate = a.maxErrorRate;
  if (!sequential && !max_rate && !a.maxLatencyP99 && !a.maxErrorRateIncrease)
    max_rate = kDefaultMaxErrorRate;
  nlohmann::json judge;  // judge: sequential's settings, or null
  if (sequential) {
    const AnalysisTolerance& t = a.tolerance;
    judge = {{"falseAlarmRate", a.falseAlarmRate},
             {"tolerance",
              {{"errorRate", t.errorRate},
               {"latencyPercent", or_null(t.latencyPercent)},
               {"latencyAddedMs",
                t.latencyAdded ? nlohmann::json(t.latencyAdded->count()) : nlohmann::json()}}}};
  }
  nlohmann::json prometheus;  // analysis.prometheus, or null
  if (a.prometheus) {
    nlohmann::json queries = nlohmann::json::array();
    for (const auto& q : a.prometheus->queries) {
      queries.push_back(
          {{"name", q.name}, {"query", q.query}, {"min", or_null(q.min)}, {"max", or_null(q.max)}});
    }
    prometheus = {{"address", a.prometheus->address}, {"queries", queries}};
  }
  return {{"step", v.step.empty() ? nlohmann::json() : nlohmann::json(v.step)},
          {"judge", sequential ? "sequential" : "threshold"},
          {"prometheus", prometheus},
          {"sequential", judge},
          {"active", v.active},
          {"windowMs", a.window.count()},
          {"minRequests", a.minRequests},
          {"limits",
           {{"maxErrorRate", or_null(max_rate)},
            {"maxLatencyP99Ms",
             a.maxLatencyP99 ? nlohmann::json(a.maxLatencyP99->count()) : nlohmann::json()},
            {"maxErrorRateIncrease", or_null(a.maxErrorRateIncrease)},
            {"failureLimit", a.failureLimit}}},
          {"windows",
           v.lastWindow.empty() ? nlohmann::json::array() : nlohmann::json::array({v.lastWindow})}};
}

}  // namespace

nlohmann::json StatusJson(const AppStatus& s) {
  nlohmann::json slots = nlohmann::json::object();
  for (const auto& slot : s.slots) {
    auto instances = nlohmann::json::array();
    for (const auto& i : slot.instances) {
      instances.push_back({{"id", i.id},
                           {"host", i.host.empty() ? "local" : i.host},
                           {"version", i.version},
                           {"address", i.address},
                           {"state", i.state},
                           {"pid", i.pid},
                           {"restarts", i.restarts}});
    }
    auto hosts = nlohmann::json::array();
    for (const auto& h : slot.hosts) {
      auto listeners = nlohmann::json::array();
      for (const auto& l : h.listeners) {
        nlohmann::json jl = {{"address", l.address}, {"bound", l.bound}};
        if (!l.bound) jl["error"] = Utf8String(l.error);
        listeners.push_back(std::move(jl));
      }
      hosts.push_back(
          {{"name", h.name},
           {"reachable", h.reachable},
           {"version", h.version > 0 ? nlohmann::json(h.version) : nullptr},
           {"problem", h.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.problem)},
           {"listeners", listeners}});
    }
    slots[slot.name] = {
        {"version", slot.version > 0 ? nlohmann::json(slot.version) : nullptr},
        {"hosts", hosts},
        {"weight", slot.weight},
        {"instances", instances},
        {"canary", slot.canaryVersion > 0 ? nlohmann::json{{"version", slot.canaryVersion},
                                                           {"weight", slot.canaryWeight}}
                                          : nlohmann::json(nullptr)},
        {"swapPending", slot.swapPending.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json{{"source", slot.swapPending}}}};
  }
  nlohmann::json deployment = nullptr;
  if (s.running) {
    std::string step;
    if (s.running->cursor < static_cast<int>(s.running->operations.size()))
      step = s.running->operations[s.running->cursor].step;
    deployment = {{"name", s.running->name},
                  {"state", StateName(s.running->state)},
                  {"version", s.running->version},
                  {"kind", KindName(s.running->kind)},
                  {"step", step},
                  {"detail", s.running->cursor < static_cast<int>(s.running->operations.size())
                                 ? s.running->operations[s.running->cursor].detail
                                 : ""}};
  }
  nlohmann::json analysis = nullptr;
  if (s.analysis) analysis = AnalysisJson(*s.analysis);
  nlohmann::json listeners = nlohmann::json::array();
  for (const auto& l : s.listeners) {
    nlohmann::json jl = {{"address", l.address}, {"slot", l.slot}, {"bound", l.bound}};
    if (!l.bound) jl["error"] = Utf8String(l.error);
    listeners.push_back(std::move(jl));
  }
  return {{"app", s.app},
          {"confinement",
           {{"mode", s.confinement.mode},
            {"runsAs", s.confinement.runsAs},
            {"detail", s.confinement.detail}}},
          {"slots", slots},
          {"deployment", deployment},
          {"lastGood", s.lastGood ? nlohmann::json(*s.lastGood) : nullptr},
          {"analysis", analysis},
          {"listeners", listeners}};
}

Result<nlohmann::json> ParseRequestBody(const std::string& body,
                                        const std::set<std::string>& allowed) {
  if (body.size() > kMaxRequestBody) {
    return Error::InvalidInput("request body is too large: " + std::to_string(body.size()) +
                               " bytes; the limit is " + std::to_string(kMaxRequestBody));
  }
  if (NestingDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return Error::InvalidInput("request body is nested more than " + std::to_string(kMaxJsonDepth) +
                               " levels deep");
  }
  nlohmann::json j = nlohmann::json::parse(body.empty() ? "{}" : body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error::InvalidInput("request body must be a JSON object");
  }
  for (const auto& [key, value] : j.items()) {
    if (!allowed.count(key)) return Error::InvalidInput("unknown field '" + key + "'", key);
  }
  return j;
}

}  // namespace lastgood
