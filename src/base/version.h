// What this binary is, as `lastgood --version`, `lastgood version -o json` and the API's
// /v1/health say it: the release (the repository's VERSION file), the commit it was built
// from (git, when cmake configured the build; "" outside a git checkout) and its build id
// (base/build_id.h: the same build id means the same binary).
//
// Thread-safe: computed once, then constant.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace lastgood {

struct BuildVersion {
  std::string version;  // "0.10.0"
  std::string buildId;  // "3f1c…" (40 hex digits), or "" for a binary without the note
  std::string commit;   // "9a2e…" (40 hex digits), or ""
};

// This binary's.
const BuildVersion& ThisBuild();

// "lastgood 0.10.0 (commit 9a2e5b1c0d3f, build 3f1c2a7e9b04)": the first 12 digits of each,
// "unknown" for what is not known.
std::string DescribeBuild(const BuildVersion& v);

// {"version", "buildId", "commit"}: the shape of `version -o json` and /v1/health's
// "version" (DESIGN.md section 5).
nlohmann::json BuildVersionJson(const BuildVersion& v);
// The reverse, reading only string fields (a missing or odd one stays ""): what a client
// makes of a controller's answer.
BuildVersion BuildVersionFromJson(const nlohmann::json& j);

}  // namespace lastgood
