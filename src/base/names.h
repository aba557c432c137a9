// Validation of the names users give to apps, slots and deployments.
#pragma once

#include <string_view>

#include "base/result.h"

namespace lastgood {

// A plain name: 1–63 characters of [a-z0-9-], starting with a letter, not ending with '-'.
// Such names are safe in paths, URLs, log file names and SQL.
// `what` names the thing in the error ("app name"), `field` its field path if any.
Status ValidateName(std::string_view name, std::string_view what, std::string_view field = "",
                    int line = 0);

}  // namespace lastgood
