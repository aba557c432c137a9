// The JSON shapes of the controller's API (DESIGN.md section 5, "Machine-readable
// output"). The CLI prints these as they are for `-o json`, so they are a contract.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "base/result.h"
#include "engine/engine.h"
#include "history/model.h"

namespace lastgood {

nlohmann::json VersionJson(const Version& v);  // without the manifest
nlohmann::json DeploymentJson(const Deployment& d, bool with_operations);
nlohmann::json OutcomeJson(const Outcome& o);
nlohmann::json StatusJson(const AppStatus& s);
// {"error": {"code", "message", "field"?, "line"?}}. Bytes of the message or field that are
// not UTF-8 (a request's path, a file name) become U+FFFD, so the result always dumps.
nlohmann::json ErrorJson(const Error& e);

// j.dump(), with any string that is not valid UTF-8 repaired (U+FFFD) instead of throwing:
// a response must never take the controller down because a record quotes odd bytes.
std::string DumpJson(const nlohmann::json& j);

// Limits on a request body (besides its size, kMaxRequestBody in api/handlers.h).
inline constexpr int kMaxJsonDepth = 32;  // nested arrays/objects; a body needs 2

// Decodes a request body: a JSON object (an empty body is `{}`) whose fields are all in
// `allowed`, nested at most kMaxJsonDepth deep. InvalidInput with a message that says which
// rule was broken (and the field, for an unknown one) otherwise. Never throws.
Result<nlohmann::json> ParseRequestBody(const std::string& body,
                                        const std::set<std::string>& allowed);

}  // namespace lastgood
