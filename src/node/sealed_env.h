// SealedEnv: how a node keeps the secrets of its instances' environments on its disk
// (docs/fleets.md, "Secrets on hosts"). The controller sends an instance's secret variables
// marked verbatim (node_wire.h); the node holds their values in memory to start and restart
// the instance, and writes them to node-state.json only sealed — AES-256-GCM
// (secrets/sealing.h) under the node's own key, `<node home>/secrets.key` (0600, made at the
// node's first start, secrets/key_file.h), with the instance's id and the variable's name as
// associated data, so that a sealed value moved onto another instance or variable does not
// open. A node restarted while the controller is away can so restart an instance that died
// with its whole environment; a copy of the state file alone reveals nothing.
//
// The node's answers never carry those values either (HideSecretValues).
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "secrets/sealing.h"

namespace lastgood {

inline constexpr char kNodeKeyFileName[] = "secrets.key";

// The node's key at `<home>/secrets.key`, made first if missing. Unavailable, saying what to
// do, when the file is malformed, another user's, or readable by others.
Result<SecretKey> LoadOrCreateNodeKey(const std::string& home);

// `spec` (as SpecToJson writes it, for instance `id`) with each verbatim variable's value
// replaced by {"sealed": "lgs1:…"}. Unavailable when the cipher fails (nothing to write then:
// a value is never written in clear).
Status SealSecretEnv(const SecretKey& key, const std::string& id, nlohmann::json* spec);

// The reverse, before SpecFromJson: each sealed variable opened into its value. A variable
// that does not open (altered, moved from another instance, sealed with another node's key)
// is left out of `spec` and named in `refused`, with why — never with any of its value.
void OpenSecretEnv(const SecretKey* key, const std::string& id, nlohmann::json* spec,
                   std::vector<std::string>* refused);

// `spec` for an answer of the node's API: each verbatim variable's value replaced by "" and
// marked "secret": true.
void HideSecretValues(nlohmann::json* spec);

}  // namespace lastgood
