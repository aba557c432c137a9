#include "targets/remote/node_wire.h"

#include <algorithm>
#include <cctype>

#include "base/names.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

Error Bad(const std::string& field, const std::string& why) {
  return Error::InvalidInput(field + ": " + why, field);
}

// "" or a user's name as useradd makes them.
bool UserName(const std::string& s) {
  if (s.size() > 32 || (!s.empty() && s[0] == '-')) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

Result<std::string> Text(const json& j, const char* name, bool required = true);

// "app" and "runUser" of an instance or a probe, for the node's confinement. Both are names:
// the app's a plain name, a user's at most 32 of [A-Za-z0-9._-].
Status AppAndUserFromJson(const json& j, std::string* app, std::string* run_user) {
  auto a = Text(j, "app", false);
  if (!a.ok()) return a.error();
  if (!a->empty() && !ValidateName(*a, "app name", "app").ok())
    return Bad("app", "must be an app's name");
  auto user = Text(j, "runUser", false);
  if (!user.ok()) return user.error();
  if (!UserName(*user)) return Bad("runUser", "must be a user's name");
  if (!user->empty() && a->empty()) return Bad("runUser", "needs the app");
  *app = *a;
  *run_user = *user;
  return Status::Ok();
}

Result<std::string> Text(const json& j, const char* name, bool required) {
  if (!j.contains(name) || j[name].is_null()) {
    if (required) return Bad(name, "missing");
    return std::string();
  }
  if (!j[name].is_string()) return Bad(name, "must be a string");
  std::string s = j[name].get<std::string>();
  if (s.size() > kMaxSpecString) return Bad(name, "too long");
  if (s.find('\0') != std::string::npos) return Bad(name, "holds a NUL byte");
  return s;
}

template <typename T>
Result<T> Number(const json& j, const char* name, T min, T max) {
  if (!j.contains(name) || j[name].is_null()) return T{};
  const json& v = j[name];
  if (!v.is_number_integer()) return Bad(name, "must be a whole number");
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) return Bad(name, "out of range");
    return static_cast<T>(u);
  }
  auto n = v.get<int64_t>();
  if (n < static_cast<int64_t>(min) || (max >= 0 && n > static_cast<int64_t>(max)))
    return Bad(name, "out of range");
  return static_cast<T>(n);
}

}  // namespace

// An env array of {name, value[, verbatim]}, as SpecToJson and ProbeToJson write it; the names
// marked verbatim go to `verbatim` when it is given (instances); probes have no such list.
Status EnvFromJson(const json& j, std::vector<std::pair<std::string, std::string>>& env,
                   std::vector<std::string>* verbatim) {
  if (!j.contains("env")) return Status();
  if (!j["env"].is_array() || j["env"].size() > kMaxSpecEnv)
    return Bad("env", "must be an array of {name, value}, at most 512");
  for (const auto& e : j["env"]) {
    if (!e.is_object()) return Bad("env", "must be an array of {name, value}");
    auto name = Text(e, "name");
    auto value = Text(e, "value");
    if (!name.ok()) return name.error();
    if (!value.ok()) return value.error();
    if (name->empty() || name->find('=') != std::string::npos)
      return Bad("env", "a variable's name must be non-empty and have no '='");
    env.emplace_back(*name, *value);
    if (verbatim != nullptr && e.contains("verbatim")) {
      if (!e["verbatim"].is_boolean()) return Bad("env", "verbatim must be true or false");
      if (e["verbatim"].get<bool>()) verbatim->push_back(*name);
    }
  }
  return Status();
}

json SpecToJson(const InstanceSpec& spec) {
  json env = json::array();
  for (const auto& [k, v] : spec.env) {
    json e = {{"name", k}, {"value", v}};
    // A secret's value is taken as is on the node too, never expanded.
    if (std::find(spec.verbatimEnv.begin(), spec.verbatimEnv.end(), k) != spec.verbatimEnv.end())
      e["verbatim"] = true;
    env.push_back(std::move(e));
  }
  json out = {{"id", spec.id},   {"argv", spec.argv}, {"env", env},
              {"cwd", spec.cwd}, {"port", spec.port}, {"stopGraceMs", spec.stopGrace.count()}};
  if (!spec.app.empty()) out["app"] = spec.app;
  if (!spec.runUser.empty()) out["runUser"] = spec.runUser;
  return out;
}

Result<InstanceSpec> SpecFromJson(const json& j) {
  if (!j.is_object()) return Bad("spec", "must be an object");
  InstanceSpec spec;
  auto id = Text(j, "id");
  if (!id.ok()) return id.error();
  spec.id = *id;
  auto cwd = Text(j, "cwd");
  if (!cwd.ok()) return cwd.error();
  spec.cwd = *cwd;
  if (!j.contains("argv") || !j["argv"].is_array() || j["argv"].empty())
    return Bad("argv", "must be a non-empty array of strings");
  if (j["argv"].size() > kMaxSpecArgs) return Bad("argv", "too many arguments");
  for (const auto& a : j["argv"]) {
    if (!a.is_string() || a.get<std::string>().size() > kMaxSpecString)
      return Bad("argv", "must be strings within the size limit");
    spec.argv.push_back(a.get<std::string>());
  }
  LG_RETURN_IF_ERROR(EnvFromJson(j, spec.env, &spec.verbatimEnv));
  auto port = Number<int>(j, "port", 0, 65535);
  if (!port.ok()) return port.error();
  spec.port = *port;
  auto grace = Number<int64_t>(j, "stopGraceMs", 0, 3'600'000);
  if (!grace.ok()) return grace.error();
  if (j.contains("stopGraceMs")) spec.stopGrace = Millis(*grace);
  LG_RETURN_IF_ERROR(AppAndUserFromJson(j, &spec.app, &spec.runUser));
  return spec;
}

json HandleToJson(const InstanceHandle& h) {
  return {{"id", h.id}, {"pid", h.pid}, {"startTime", h.startTime}, {"port", h.port}};
}

Result<InstanceHandle> HandleFromJson(const json& j) {
  if (!j.is_object()) return Bad("handle", "must be an object");
  InstanceHandle h;
  auto id = Text(j, "id");
  if (!id.ok()) return id.error();
  h.id = *id;
  auto pid = Number<int>(j, "pid", 0, 1 << 30);
  auto start = Number<uint64_t>(j, "startTime", 0, UINT64_MAX);
  auto port = Number<int>(j, "port", 0, 65535);
  if (!pid.ok()) return pid.error();
  if (!start.ok()) return start.error();
  if (!port.ok()) return port.error();
  h.pid = *pid;
  h.startTime = *start;
  h.port = *port;
  return h;
}

json InstanceStatusToJson(const InstanceStatus& s) {
  return {{"alive", s.alive},
          {"restarts", s.restarts},
          {"lastExit", s.lastExit},
          {"handle", HandleToJson(s.handle)}};
}

Result<InstanceStatus> InstanceStatusFromJson(const json& j) {
  if (!j.is_object() || !j.contains("handle")) return Bad("status", "must be an object");
  InstanceStatus s;
  s.alive = j.value("alive", false);
  auto restarts = Number<int>(j, "restarts", 0, 1 << 30);
  if (!restarts.ok()) return restarts.error();
  s.restarts = *restarts;
  auto last = Text(j, "lastExit", false);
  if (!last.ok()) return last.error();
  s.lastExit = *last;
  auto h = HandleFromJson(j["handle"]);
  if (!h.ok()) return h.error();
  s.handle = *h;
  return s;
}

json ProbeToJson(const ProbeSpec& spec) {
  const char* kind = spec.kind == ProbeSpec::Kind::kHttp  ? "http"
                     : spec.kind == ProbeSpec::Kind::kTcp ? "tcp"
                                                          : "exec";
  json env = json::array();
  for (const auto& [k, v] : spec.env) env.push_back({{"name", k}, {"value", v}});
  json out = {{"kind", kind},
              {"port", spec.port},
              {"path", spec.path},
              {"command", spec.command},
              {"env", env},
              {"cwd", spec.cwd},
              {"timeoutMs", spec.timeout.count()}};
  if (!spec.app.empty()) out["app"] = spec.app;
  if (!spec.runUser.empty()) out["runUser"] = spec.runUser;
  return out;
}

Result<ProbeSpec> ProbeFromJson(const json& j) {
  if (!j.is_object()) return Bad("probe", "must be an object");
  ProbeSpec spec;  // always 127.0.0.1: a node probes its own host's instances only
  auto kind = Text(j, "kind");
  if (!kind.ok()) return kind.error();
  if (*kind == "http") {
    spec.kind = ProbeSpec::Kind::kHttp;
  } else if (*kind == "tcp") {
    spec.kind = ProbeSpec::Kind::kTcp;
  } else if (*kind == "exec") {
    spec.kind = ProbeSpec::Kind::kExec;
  } else {
    return Bad("kind", "must be http, tcp or exec");
  }
  auto port = Number<int>(j, "port", 0, 65535);
  if (!port.ok()) return port.error();
  spec.port = *port;
  auto path = Text(j, "path", false);
  if (!path.ok()) return path.error();
  if (!path->empty()) spec.path = *path;
  if (spec.path.empty() || spec.path[0] != '/') return Bad("path", "must begin with '/'");
  for (char c : spec.path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return Bad("path", "holds a space or a control character");
  }
  if (j.contains("command")) {
    if (!j["command"].is_array() || j["command"].size() > kMaxSpecArgs)
      return Bad("command", "must be an array of strings");
    for (const auto& a : j["command"]) {
      if (!a.is_string() || a.get<std::string>().size() > kMaxSpecString)
        return Bad("command", "must be strings within the size limit");
      spec.command.push_back(a.get<std::string>());
    }
  }
  if (spec.kind == ProbeSpec::Kind::kExec && spec.command.empty())
    return Bad("command", "an exec probe needs a command");
  LG_RETURN_IF_ERROR(EnvFromJson(j, spec.env, nullptr));
  auto cwd = Text(j, "cwd", false);
  if (!cwd.ok()) return cwd.error();
  spec.cwd = *cwd;
  LG_RETURN_IF_ERROR(AppAndUserFromJson(j, &spec.app, &spec.runUser));
  auto timeout = Number<int64_t>(j, "timeoutMs", 1, kMaxProbeTimeoutMs);
  if (!timeout.ok()) return timeout.error();
  if (j.contains("timeoutMs")) spec.timeout = Millis(*timeout);
  return spec;
}

json ProbeResultToJson(const ProbeResult& r) {
  return {{"ok", r.ok}, {"detail", r.detail}, {"httpStatus", r.httpStatus}};
}

Result<ProbeResult> ProbeResultFromJson(const json& j) {
  if (!j.is_object()) return Bad("probe result", "must be an object");
  ProbeResult r;
  r.ok = j.value("ok", false);
  auto detail = Text(j, "detail", false);
  if (!detail.ok()) return detail.error();
  r.detail = *detail;
  auto status = Number<int>(j, "httpStatus", 0, 999);
  if (!status.ok()) return status.error();
  r.httpStatus = *status;
  return r;
}

json NodeInfoToJson(const NodeInfo& info) {
  return {{"buildId", info.buildId},
          {"version", info.version},
          {"commit", info.commit},
          {"arch", info.arch},
          {"pid", info.pid},
          {"instances", info.instances},
          {"confinement", {{"mode", info.confinement}, {"detail", info.confinementDetail}}}};
}

Result<NodeInfo> NodeInfoFromJson(const json& j) {
  if (!j.is_object()) return Bad("node", "must be an object");
  NodeInfo info;
  for (auto [field, out] : {std::pair{"buildId", &info.buildId},
                            std::pair{"version", &info.version}, std::pair{"arch", &info.arch}}) {
    auto t = Text(j, field, false);
    if (!t.ok()) return t.error();
    *out = *t;
  }
  // A node of an earlier build sends no commit.
  if (j.contains("commit")) {
    auto c = Text(j, "commit", false);
    if (!c.ok()) return c.error();
    info.commit = *c;
  }
  auto pid = Number<int>(j, "pid", 0, 1 << 30);
  auto n = Number<int>(j, "instances", 0, 1 << 30);
  if (!pid.ok()) return pid.error();
  if (!n.ok()) return n.error();
  info.pid = *pid;
  info.instances = *n;
  // A node of an earlier build does not say how it confines.
  if (j.contains("confinement")) {
    const json& c = j["confinement"];
    if (!c.is_object()) return Bad("confinement", "must be an object");
    auto mode = Text(c, "mode", false);
    if (!mode.ok()) return Bad("confinement.mode", "must be a short string");
    auto detail = Text(c, "detail", false);
    if (!detail.ok()) return Bad("confinement.detail", "must be a short string");
    info.confinement = *mode;
    info.confinementDetail = *detail;
  }
  return info;
}

}  // namespace lastgood
