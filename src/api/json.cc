#include "api/json.h"

#include "base/clock.h"

namespace lastgood {
namespace {

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

nlohmann::json StatusJson(const AppStatus& s) {
  nlohmann::json slots = nlohmann::json::object();
  for (const auto& slot : s.slots) {
    auto instances = nlohmann::json::array();
    for (const auto& i : slot.instances) {
      instances.push_back({{"id", i.id},
                           {"version", i.version},
                           {"address", i.address},
                           {"state", i.state},
                           {"pid", i.pid},
                           {"restarts", i.restarts}});
    }
    slots[slot.name] = {{"version", slot.version > 0 ? nlohmann::json(slot.version) : nullptr},
                        {"weight", slot.weight},
                        {"instances", instances}};
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
                  {"step", step}};
  }
  return {{"app", s.app},
          {"slots", slots},
          {"deployment", deployment},
          {"lastGood", s.lastGood ? nlohmann::json(*s.lastGood) : nullptr}};
}

nlohmann::json ErrorJson(const Error& e) {
  nlohmann::json err = {{"code", ErrorCodeName(e.code)}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  if (e.line > 0) err["line"] = e.line;
  return {{"error", err}};
}

}  // namespace lastgood
