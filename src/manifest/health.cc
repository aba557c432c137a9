// Reading `health:`: the readiness probe an instance must pass before it takes traffic.
#include "manifest/sections.h"

namespace lastgood::manifest_internal {
namespace {

constexpr char kProbeHelp[] = "http: /healthz, tcp: true or exec: [\"./check\"]";

Result<std::string> ReadHttpPath(const FieldReader& r, const Field& f) {
  std::string path;
  LG_MANIFEST_ASSIGN(path, r.NonEmptyString(f));
  if (path[0] != '/') {
    return Error::InvalidInput("'" + path +
                                   "' is not a path; write it starting with '/', like "
                                   "/healthz",
                               f.path, f.line);
  }
  for (unsigned char c : path) {
    if (c <= ' ' || c == 0x7f) {
      return Error::InvalidInput("'" + path +
                                     "' has a space or control character; "
                                     "percent-encode it (%20)",
                                 f.path, f.line);
    }
  }
  return path;
}

Result<Probe> ReadReadiness(const FieldReader& r, const Field& f) {
  Probe probe;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"http", "tcp", "exec", "interval", "timeout",
                                                 "failureThreshold"}));
  const Field* kind = nullptr;
  for (const auto& e : fields.entries()) {
    if (e.key != "http" && e.key != "tcp" && e.key != "exec") continue;
    if (kind) {
      return Error::InvalidInput("a probe is one of " + std::string(kProbeHelp) + "; both '" +
                                     kind->path.substr(kind->path.rfind('.') + 1) + "' and '" +
                                     e.key + "' are given, keep one",
                                 e.value.path, e.value.key_line);
    }
    kind = &e.value;
    if (e.key == "http") {
      probe.kind = Probe::Kind::kHttp;
      LG_MANIFEST_ASSIGN(probe.path, ReadHttpPath(r, e.value));
    } else if (e.key == "tcp") {
      probe.kind = Probe::Kind::kTcp;
      bool on = false;
      LG_MANIFEST_ASSIGN(on, r.Bool(e.value));
      if (!on) {
        return Error::InvalidInput(
            "tcp: false is not a probe; write tcp: true (connect to the "
            "instance's port), use http or exec, or remove readiness",
            e.value.path, e.value.line);
      }
    } else {
      probe.kind = Probe::Kind::kExec;
      LG_MANIFEST_ASSIGN(probe.command, r.Argv(e.value));
    }
  }
  if (!kind) {
    return Error::InvalidInput("says no way to probe; give one of " + std::string(kProbeHelp),
                               f.path, f.key_line);
  }
  if (auto v = fields.Get("interval")) LG_MANIFEST_ASSIGN(probe.interval, r.Duration(*v, false));
  if (auto v = fields.Get("timeout")) LG_MANIFEST_ASSIGN(probe.timeout, r.Duration(*v, false));
  if (auto v = fields.Get("failureThreshold")) {
    LG_MANIFEST_ASSIGN(probe.failureThreshold, r.Int(*v, 1, kMaxFailureThreshold));
  }
  return probe;
}

}  // namespace

Result<std::optional<Probe>> ReadHealth(const FieldReader& r, const Field& f) {
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"readiness"}));
  auto readiness = fields.Get("readiness");
  if (!readiness) return std::optional<Probe>();
  Probe probe;
  LG_MANIFEST_ASSIGN(probe, ReadReadiness(r, *readiness));
  return std::optional<Probe>(std::move(probe));
}

}  // namespace lastgood::manifest_internal
