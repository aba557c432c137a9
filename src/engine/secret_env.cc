#include "engine/secret_env.h"

#include <algorithm>

#include "engine/slot_instances.h"
#include "secrets/redact.h"
#include "secrets/secret_box.h"

namespace lastgood {
namespace {

Error NoSecrets() {
  return Error::Unavailable(
      "this controller keeps no secrets; run the manifest on a `lastgood serve` controller");
}

// "${NAME}" of another variable replaced by its value, as an instance's launcher does; a
// secret's own value is never expanded (it is taken byte for byte).
std::string ExpandReferences(const std::string& text,
                             const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    std::string name = text.substr(open + 2, close - open - 2);
    auto it =
        std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
    if (it != vars.end()) {
      out += it->second;
    } else {
      out.append(text, open, close - open + 1);
    }
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

}  // namespace

Result<ResolvedEnv> ResolveEnv(const EngineDeps& deps, const std::string& app,
                               const std::vector<EnvVar>& env) {
  ResolvedEnv out;
  for (const auto& e : env) {
    if (e.secret.empty()) {
      out.vars.emplace_back(e.name, e.value);
      continue;
    }
    if (deps.secrets == nullptr) return NoSecrets();
    auto value = deps.secrets->Reveal(app, e.secret);
    if (!value.ok()) {
      Error err = value.error();
      err.message = "run.env." + e.name + ": " + err.message;
      return err;
    }
    out.vars.emplace_back(e.name, std::move(*value));
    out.secretNames.push_back(e.name);
  }
  return out;
}

ResolvedEnv WithoutSecrets(const std::vector<EnvVar>& env) {
  ResolvedEnv out;
  for (const auto& e : env) {
    if (e.secret.empty()) out.vars.emplace_back(e.name, e.value);
  }
  return out;
}

Status RequireSecrets(const EngineDeps& deps, const std::string& app,
                      const std::vector<SecretReference>& references) {
  for (const auto& ref : references) {
    if (deps.secrets == nullptr) return NoSecrets();
    auto value = deps.secrets->Reveal(app, ref.secret);
    if (value.ok()) continue;
    if (value.error().code != ErrorCode::kNotFound) return value.error();
    return Error::InvalidInput("secret " + ref.secret + " of " + app +
                                   " is not set; set it first with `lastgood secret set " + app +
                                   " " + ref.secret + "` (the value is read from stdin)",
                               ref.field, ref.line);
  }
  return Status::Ok();
}

Status RequireSecretsOf(const EngineDeps& deps, const std::string& app, int version,
                        const Manifest& m) {
  for (const auto& e : m.run.env) {
    if (e.secret.empty()) continue;
    if (deps.secrets == nullptr) return NoSecrets();
    auto value = deps.secrets->Reveal(app, e.secret);
    if (value.ok()) continue;
    std::string what = "v" + std::to_string(version) + " needs secret " + e.secret + " (run.env." +
                       e.name + "): " + value.error().message + "; nothing was changed";
    if (value.error().code == ErrorCode::kNotFound) return Error::InvalidInput(what);
    return Error::Unavailable(what);
  }
  return Status::Ok();
}

Status AddAppEnv(const EngineDeps& deps, const std::string& app, const Manifest& m,
                 std::vector<std::pair<std::string, std::string>>* env) {
  auto resolved = ResolveEnv(deps, app, m.run.env);
  if (!resolved.ok()) return resolved.error();
  std::vector<std::pair<std::string, std::string>> vars;
  for (const auto& [name, value] : resolved->vars) {
    bool secret = std::find(resolved->secretNames.begin(), resolved->secretNames.end(), name) !=
                  resolved->secretNames.end();
    vars.emplace_back(name, secret ? value : ExpandReferences(value, resolved->vars));
  }
  for (auto& v : *env) {
    auto same =
        std::find_if(vars.begin(), vars.end(), [&](const auto& x) { return x.first == v.first; });
    if (same != vars.end()) vars.erase(same);
  }
  env->insert(env->begin(), vars.begin(), vars.end());
  return Status::Ok();
}

std::string RedactSecrets(const EngineDeps& deps, const std::string& app, std::string text) {
  if (deps.secrets == nullptr || text.empty()) return text;
  return Redact(std::move(text), deps.secrets->RevealAll(app));
}

std::optional<std::string> SecretRotatedUnder(const EngineDeps& deps, const std::string& app,
                                              const std::string& slot, int version,
                                              const Manifest& m) {
  if (deps.secrets == nullptr) return std::nullopt;
  auto instances = deps.store->ListInstances(app);
  if (!instances.ok()) return std::nullopt;
  std::optional<int64_t> oldest;
  for (const auto& i : *instances) {
    if (i.slot != slot || i.version != version || !IsLive(i)) continue;
    if (!oldest || i.createdAt < *oldest) oldest = i.createdAt;
  }
  if (!oldest) return std::nullopt;
  for (const auto& e : m.run.env) {
    if (e.secret.empty()) continue;
    auto at = deps.secrets->SetAt(app, e.secret);
    if (at.ok() && *at && **at > *oldest) return e.secret;
  }
  return std::nullopt;
}

}  // namespace lastgood
