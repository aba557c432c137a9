// Validation of the names users give to apps, slots and deployments.
#pragma once

#include <string_view>

#include "base/result.h"

namespace lastgood {

// The slot that takes an app's live traffic. One definition for the controller and the
// router alike: two inline variables of one name and different types in one program are an
// ODR violation (the router once read the controller's pointer as a string_view and never
// found its production slot, so no traffic split took effect).
inline constexpr const char* kProductionSlot = "production";

// The dashboard's session cookies are named this prefix plus the dashboard's port. The
// router strips every cookie with this prefix from requests to apps: browsers do not scope
// cookies by port, so an app on the same host would otherwise receive an admin's session.
inline constexpr std::string_view kSessionCookiePrefix = "lg_session_";

// A plain name: 1–63 characters of [a-z0-9-], starting with a letter, not ending with '-'.
// Such names are safe in paths, URLs, log file names and SQL.
// `what` names the thing in the error ("app name"), `field` its field path if any.
Status ValidateName(std::string_view name, std::string_view what, std::string_view field = "",
                    int line = 0);

}  // namespace lastgood
