// The engine's side of secrets (issue 11 C): an env variable `{ secret: NAME }` is resolved
// to the app's secret when an instance or a deployment's command (hook, smoke test, check)
// starts — never stored with a version — and what deployed code writes is redacted before
// it reaches a record (docs/secrets.md).
//
// Thread-safe as EngineDeps' members are. Without deps.secrets, a manifest that refers to a
// secret is refused (Unavailable) and nothing is redacted.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/instance_spec.h"
#include "manifest/manifest.h"
#include "manifest/parser.h"

namespace lastgood {

// `env` of `app` with its secrets revealed. A secret that is not set (removed since the
// version was applied) or that cannot be opened is an error naming the variable, the secret
// and the command that sets it.
Result<ResolvedEnv> ResolveEnv(const EngineDeps& deps, const std::string& app,
                               const std::vector<EnvVar>& env);

// `env` without the variables that refer to secrets (the spec of an instance re-adopted when
// its secret can no longer be read: it runs, and says so when it next starts).
ResolvedEnv WithoutSecrets(const std::vector<EnvVar>& env);

// For `apply`: every secret the manifest refers to is set and opens. InvalidInput at the
// reference's field and line, with the command that sets it, when one is not set.
Status RequireSecrets(const EngineDeps& deps, const std::string& app,
                      const std::vector<SecretReference>& references);

// For rollback, rollforward and promote to `version` (manifest `m`): likewise, before
// anything changes; the error names the version.
Status RequireSecretsOf(const EngineDeps& deps, const std::string& app, int version,
                        const Manifest& m);

// Appends the version's environment (`m.run.env`, secrets revealed, ${NAME} of another of its
// variables expanded as an instance's would be) to a command's environment, before the
// variables already in `env` (LASTGOOD_APP, …), which win.
Status AddAppEnv(const EngineDeps& deps, const std::string& app, const Manifest& m,
                 std::vector<std::pair<std::string, std::string>>* env);

// `text` with the current value of every secret of `app` replaced by "[secret NAME]"
// (secrets/redact.h). For text that deployed code wrote, before it is recorded.
std::string RedactSecrets(const EngineDeps& deps, const std::string& app, std::string text);

// The name of a secret `m` (the manifest of `version`) refers to that was set after the
// oldest live instance of `version` in `slot` started — those run with its old value — if any.
std::optional<std::string> SecretRotatedUnder(const EngineDeps& deps, const std::string& app,
                                              const std::string& slot, int version,
                                              const Manifest& m);

}  // namespace lastgood
