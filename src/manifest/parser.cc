#include "manifest/parser.h"

#include <yaml-cpp/yaml.h>

#include <cctype>

#include "base/names.h"
#include "manifest/documents.h"
#include "manifest/field_reader.h"
#include "manifest/fleet.h"
#include "manifest/history.h"
#include "manifest/parameters.h"
#include "manifest/sections.h"

namespace lastgood {
namespace {

using manifest_internal::Field;
using manifest_internal::FieldReader;
using manifest_internal::MapFields;
using manifest_internal::Params;

const std::vector<std::string> kTopFields = {
    "app",   "parameters",     "run",        "replicas",
    "route", "health",         "strategy",   "progressDeadline",
    "bake",  "rollback",       "hooks",      "notifications",
    "slots", "swap",           "history",    "hosts",
    "waves", "maxFailedHosts", "maxParallel"};

constexpr char kCommandExample[] = "command: [\"./bin/web\", \"--port\", \"${PORT}\"]";

bool IsEnvName(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// An env value: a string, { value: S, sticky: B } or { secret: NAME, sticky: B }.
Result<EnvVar> ReadEnvVar(const FieldReader& r, const MapFields::Entry& e,
                          std::vector<SecretReference>* secrets) {
  EnvVar var{e.key, "", false, ""};
  if (!IsEnvName(e.key)) {
    return Error::InvalidInput("'" + e.key +
                                   "' is not an environment variable name; use letters, digits "
                                   "and '_', not starting with a digit",
                               e.value.path, e.value.key_line);
  }
  if (!e.value.node.IsMap()) {
    if (!e.value.node.IsScalar()) {
      return Error::InvalidInput(
          "expected a string, { value: S, sticky: true } or { secret: NAME }, got " +
              manifest_internal::Describe(e.value.node),
          e.value.path, e.value.line);
    }
    LG_MANIFEST_ASSIGN(var.value, r.String(e.value));
    return var;
  }
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(e.value, {"value", "secret", "sticky"}));
  auto value = fields.Get("value");
  auto secret = fields.Get("secret");
  if (value && secret) {
    return Error::InvalidInput(
        "give either value or secret, not both: a secret's value is set with `lastgood secret "
        "set`, never written in the manifest",
        secret->path, secret->key_line);
  }
  if (!value && !secret) {
    return Error::InvalidInput(
        "missing value; write { value: S, sticky: true } or { secret: NAME }", e.value.path,
        e.value.line);
  }
  if (value) {
    LG_MANIFEST_ASSIGN(var.value, r.String(*value));
  } else {
    LG_MANIFEST_ASSIGN(var.secret, r.String(*secret));
    LG_RETURN_IF_ERROR(ValidateName(var.secret, "secret name", secret->path, secret->line));
    secrets->push_back({var.name, var.secret, secret->path, secret->line});
  }
  if (auto v = fields.Get("sticky")) LG_MANIFEST_ASSIGN(var.sticky, r.Bool(*v));
  return var;
}

// A secret's value in an argument would be visible to every local user (ps, /proc/PID/
// cmdline) and in messages that quote the command: refused; the app reads its environment.
Status RefuseSecretsInArgv(const Field& command, const std::vector<std::string>& argv,
                           const std::vector<SecretReference>& secrets) {
  for (size_t i = 0; i < argv.size(); ++i) {
    for (const auto& s : secrets) {
      if (argv[i].find("${" + s.env + "}") == std::string::npos) continue;
      Field item = command.Item(i, command.node[i]);
      return Error::InvalidInput("${" + s.env + "} is the secret " + s.secret +
                                     ": an argument is visible to every local user (ps); let "
                                     "the program read " +
                                     s.env + " from its environment instead",
                                 item.path, item.line);
    }
  }
  return Status::Ok();
}

Result<Run> ReadRun(const FieldReader& r, const Field& f, std::vector<SecretReference>* secrets) {
  Run run;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields,
                     MapFields::Open(f, {"command", "artifact", "env", "stopGrace", "user"}));
  auto command = fields.Get("command");
  if (!command) {
    return Error::InvalidInput(
        std::string("missing run.command; give the program and its arguments as a list, like ") +
            kCommandExample,
        "run.command", f.key_line);
  }
  LG_MANIFEST_ASSIGN(run.command, r.Argv(*command));
  if (auto v = fields.Get("artifact")) LG_MANIFEST_ASSIGN(run.artifact, r.NonEmptyString(*v));
  if (auto env = fields.Get("env")) {
    MapFields vars;
    LG_MANIFEST_ASSIGN(vars, MapFields::OpenFree(*env));
    for (const auto& e : vars.entries()) {
      EnvVar var;
      LG_MANIFEST_ASSIGN(var, ReadEnvVar(r, e, secrets));
      run.env.push_back(std::move(var));
    }
  }
  LG_RETURN_IF_ERROR(RefuseSecretsInArgv(*command, run.command, *secrets));
  if (auto v = fields.Get("stopGrace")) LG_MANIFEST_ASSIGN(run.stopGrace, r.Duration(*v, true));
  if (auto v = fields.Get("user")) {
    LG_MANIFEST_ASSIGN(run.user, r.NonEmptyString(*v));
    // A user name as useradd takes it; whether it exists is this machine's answer, at apply.
    bool valid = run.user.size() <= 32 &&
                 (std::islower(static_cast<unsigned char>(run.user[0])) || run.user[0] == '_');
    for (char c : run.user) {
      valid = valid && (std::islower(static_cast<unsigned char>(c)) ||
                        std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    }
    if (!valid) {
      return Error::InvalidInput(
          "run.user must be a user name (lower-case letters, digits, '_', "
          "'-'; at most 32), got '" +
              run.user + "'",
          v->path, v->line);
    }
  }
  return run;
}

Result<std::string> ReadOnError(const FieldReader& r, const Field& f) {
  std::string value;
  LG_MANIFEST_ASSIGN(value, r.String(f));
  if (value == "lastSuccessful" || value == "none") return value;
  if (!ValidateName(value, "deployment name").ok()) {
    std::string msg =
        "expected lastSuccessful, none or the name of a deployment of this app, got '" + value +
        "'";
    if (auto close = manifest_internal::ClosestMatch(value, {"lastSuccessful", "none"})) {
      msg += "; did you mean '" + *close + "'?";
    }
    return Error::InvalidInput(msg, f.path, f.line);
  }
  return value;
}

Result<RollbackPolicy> ReadRollback(const FieldReader& r, const Field& f) {
  RollbackPolicy policy;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"onError", "keepPrevious"}));
  if (auto v = fields.Get("onError")) LG_MANIFEST_ASSIGN(policy.onError, ReadOnError(r, *v));
  if (auto v = fields.Get("keepPrevious")) {
    LG_MANIFEST_ASSIGN(policy.keepPrevious, r.Duration(*v, true));
  }
  return policy;
}

Result<std::optional<Hook>> ReadHook(const FieldReader& r, const std::optional<Field>& f) {
  if (!f) return std::optional<Hook>();
  Hook hook;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(*f, {"command", "timeout"}));
  auto command = fields.Get("command");
  if (!command) {
    return Error::InvalidInput(
        "missing command; give the program and its arguments as a list, like " +
            std::string(kCommandExample),
        f->path + ".command", f->key_line);
  }
  LG_MANIFEST_ASSIGN(hook.command, r.Argv(*command));
  if (auto v = fields.Get("timeout")) LG_MANIFEST_ASSIGN(hook.timeout, r.Duration(*v, false));
  return std::optional<Hook>(std::move(hook));
}

Result<Hooks> ReadHooks(const FieldReader& r, const Field& f) {
  Hooks hooks;
  MapFields fields;
  LG_MANIFEST_ASSIGN(
      fields, MapFields::Open(f, {"preDeploy", "postDeploy", "preRollback", "postRollback"}));
  LG_MANIFEST_ASSIGN(hooks.preDeploy, ReadHook(r, fields.Get("preDeploy")));
  LG_MANIFEST_ASSIGN(hooks.postDeploy, ReadHook(r, fields.Get("postDeploy")));
  LG_MANIFEST_ASSIGN(hooks.preRollback, ReadHook(r, fields.Get("preRollback")));
  LG_MANIFEST_ASSIGN(hooks.postRollback, ReadHook(r, fields.Get("postRollback")));
  return hooks;
}

Result<ParsedManifest> ReadManifest(const YAML::Node& root, const Params& given) {
  int root_line = std::max(1, root.Mark().line + 1);
  Field doc{root, "", root_line, root_line};
  if (!root.IsMap()) {
    return Error::InvalidInput("the manifest must be a map of fields (app:, run:, …), got " +
                                   manifest_internal::Describe(root),
                               "", doc.line);
  }
  MapFields top;
  LG_MANIFEST_ASSIGN(top, MapFields::Open(doc, kTopFields));
  ParsedManifest out;
  int params_line = 0;
  for (const auto& e : top.entries()) {
    if (e.key == "parameters") params_line = e.value.key_line;
  }
  LG_MANIFEST_ASSIGN(
      out.params, manifest_internal::ResolveParameters(top.Get("parameters"), params_line, given));
  FieldReader r(out.params);
  Manifest& m = out.manifest;

  auto app = top.Get("app");
  if (!app) {
    return Error::InvalidInput("missing app; name the app, like app: web", "app", doc.line);
  }
  LG_MANIFEST_ASSIGN(m.app, r.String(*app));
  LG_RETURN_IF_ERROR(ValidateName(m.app, "app name", app->path, app->line));
  auto run = top.Get("run");
  if (!run) {
    return Error::InvalidInput(
        std::string("missing run; say what to start, like run: { ") + kCommandExample + " }", "run",
        doc.line);
  }
  LG_MANIFEST_ASSIGN(m.run, ReadRun(r, *run, &out.secrets));
  if (auto v = top.Get("replicas")) {
    LG_MANIFEST_ASSIGN(m.replicas, r.Int(*v, 1, manifest_internal::kMaxReplicas));
  }
  if (auto v = top.Get("route")) LG_MANIFEST_ASSIGN(m.route, manifest_internal::ReadRoute(r, *v));
  if (auto v = top.Get("health")) {
    LG_MANIFEST_ASSIGN(m.readiness, manifest_internal::ReadHealth(r, *v));
  }
  if (auto v = top.Get("strategy")) {
    LG_MANIFEST_ASSIGN(m.strategy, manifest_internal::ReadStrategy(r, *v));
  }
  if (auto v = top.Get("progressDeadline")) {
    LG_MANIFEST_ASSIGN(m.progressDeadline, r.Duration(*v, false));
  }
  if (auto v = top.Get("bake")) LG_MANIFEST_ASSIGN(m.bake, r.Duration(*v, true));
  if (auto v = top.Get("rollback")) LG_MANIFEST_ASSIGN(m.rollback, ReadRollback(r, *v));
  if (auto v = top.Get("hooks")) LG_MANIFEST_ASSIGN(m.hooks, ReadHooks(r, *v));
  if (auto v = top.Get("slots")) LG_MANIFEST_ASSIGN(m.slots, manifest_internal::ReadSlots(r, *v));
  if (auto v = top.Get("swap")) LG_MANIFEST_ASSIGN(m.swap, manifest_internal::ReadSwap(r, *v));
  if (auto v = top.Get("notifications")) {
    LG_MANIFEST_ASSIGN(m.notifications, manifest_internal::ReadNotifications(r, *v));
  }
  if (auto v = top.Get("history"))
    LG_MANIFEST_ASSIGN(m.history, manifest_internal::ReadHistory(r, *v));
  LG_MANIFEST_ASSIGN(m.fleet, manifest_internal::ReadFleet(r, top));
  if (m.strategy.rolling.analysis && !m.fleet.enabled()) {
    return Error::InvalidInput(
        "a rolling update's analysis judges each wave of a fleet deployment and needs hosts:; "
        "on one machine, use strategy canary with an analysis step",
        "strategy.rolling.analysis", top.Get("strategy")->line);
  }
  return out;
}

// The 1-based line of the first byte that is not UTF-8.
int FirstBadUtf8Line(const std::string& text) {
  int line = 1;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (!manifest_internal::IsValidUtf8(std::string_view(text).substr(start, end - start))) {
      return line;
    }
    start = end + 1;
    ++line;
  }
  return 0;
}

// Whether 1-based `line` of `text` has a ${...} that is not at the start of a quoted string.
bool LineHasPlainReference(const std::string& text, int line) {
  size_t start = 0;
  for (int i = 1; i < line && start != std::string::npos; ++i) {
    start = text.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (line < 1 || start == std::string::npos) return false;
  size_t end = text.find('\n', start);
  std::string_view row(text.data() + start, (end == std::string::npos ? text.size() : end) - start);
  for (size_t at = row.find("${"); at != std::string_view::npos; at = row.find("${", at + 1)) {
    if (at == 0 || (row[at - 1] != '"' && row[at - 1] != '\'')) return true;
  }
  return false;
}

Error SyntaxError(const YAML::Exception& e, const std::string& yaml) {
  int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
  std::string msg =
      "the YAML is malformed: " + e.msg + "; fix the syntax at line " + std::to_string(line);
  // A common trap: inside { } or [ ], a plain ${...} ends the collection at '}'.
  if (LineHasPlainReference(yaml, line) || LineHasPlainReference(yaml, line - 1)) {
    msg += " (inside { } or [ ], quote values that contain ${...})";
  }
  return Error::InvalidInput(msg, "", line);
}

}  // namespace

namespace manifest_internal {
Result<std::optional<Hook>> ReadHookField(const FieldReader& r, const std::optional<Field>& f) {
  return ReadHook(r, f);
}
}  // namespace manifest_internal

Result<ParsedManifest> ParseManifest(const std::string& yaml,
                                     const std::map<std::string, std::string>& params) {
  if (yaml.size() > kMaxManifestBytes) {
    return Error::InvalidInput("the manifest is " + std::to_string(yaml.size()) +
                               " bytes; the limit is " + std::to_string(kMaxManifestBytes) +
                               " bytes; move large content into run.artifact");
  }
  if (int line = FirstBadUtf8Line(yaml)) {
    return Error::InvalidInput("the manifest is not valid UTF-8; save it as UTF-8", "", line);
  }
  std::vector<YAML::Node> docs;
  try {
    docs = manifest_internal::LoadDocuments(yaml);  // not LoadAll: see documents.h
  } catch (const YAML::Exception& e) {
    return SyntaxError(e, yaml);
  }
  if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
    return Error::InvalidInput("the manifest is empty; it needs at least app: and run:", "", 1);
  }
  if (docs.size() > 1) {
    return Error::InvalidInput(
        "the file holds more than one YAML document; put one manifest "
        "per file (remove the second ---)",
        "", docs[1].Mark().line + 1);
  }
  try {
    return ReadManifest(docs[0], params);
  } catch (const YAML::Exception& e) {
    // Reads are checked before they are made; this is a bug, reported as input trouble.
    return Error::InvalidInput("could not read the manifest: " + e.msg, "",
                               e.mark.line >= 0 ? e.mark.line + 1 : 0);
  }
}

}  // namespace lastgood
