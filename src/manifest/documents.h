// Loading the YAML documents of a manifest file, safe against a yaml-cpp 0.7 bug.
//
// YAML::LoadAll never returns on some inputs as short as ",\n": its parser yields an empty
// document without consuming a stray flow indicator, again and again, and memory grows
// until the process dies (found by fuzz/manifest.cc; fuzz/regressions/manifest/). One
// manifest applied would have taken the controller down.
// Thread-safe: no shared state.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace lastgood::manifest_internal {

// YAML::LoadAll(yaml), but first checks with an event-only pass that every document starts
// after the one before; where the parser would stall, throws YAML::ParserException with the
// mark (line and column) of the stuck token, as other syntax errors do.
std::vector<YAML::Node> LoadDocuments(const std::string& yaml);

}  // namespace lastgood::manifest_internal
