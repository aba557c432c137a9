#include "base/version.h"

#include <nlohmann/json.hpp>

#include "base/build_id.h"

namespace lastgood {

// Written by CMake into the build folder (generated/version_info.cc).
extern const char kVersionText[];
extern const char kCommitText[];

namespace {

constexpr size_t kShortDigits = 12;

std::string Short(const std::string& hex) {
  return hex.empty() ? "unknown" : hex.substr(0, kShortDigits);
}

}  // namespace

const BuildVersion& ThisBuild() {
  static const BuildVersion v{kVersionText, BuildId(), kCommitText};
  return v;
}

std::string DescribeBuild(const BuildVersion& v) {
  return "lastgood " + (v.version.empty() ? std::string("unknown") : v.version) + " (commit " +
         Short(v.commit) + ", build " + Short(v.buildId) + ")";
}

nlohmann::json BuildVersionJson(const BuildVersion& v) {
  return {{"version", v.version}, {"buildId", v.buildId}, {"commit", v.commit}};
}

BuildVersion BuildVersionFromJson(const nlohmann::json& j) {
  BuildVersion v;
  if (!j.is_object()) return v;
  auto text = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  v.version = text("version");
  v.buildId = text("buildId");
  v.commit = text("commit");
  return v;
}

}  // namespace lastgood
