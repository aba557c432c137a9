// The JSON shapes of the controller's API (DESIGN.md section 5, "Machine-readable
// output"). The CLI prints these as they are for `-o json`, so they are a contract.
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/engine.h"
#include "history/model.h"

namespace lastgood {

nlohmann::json VersionJson(const Version& v);  // without the manifest
nlohmann::json DeploymentJson(const Deployment& d, bool with_operations);
nlohmann::json OutcomeJson(const Outcome& o);
nlohmann::json StatusJson(const AppStatus& s);
nlohmann::json ErrorJson(const Error& e);  // {"error": {"code", "message", "field"?, "line"?}}

}  // namespace lastgood
