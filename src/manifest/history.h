// Internal to manifest/: the `history:` section (the retention policy, issue 5 item 2):
// reading it, and writing it into the canonical YAML (only when set, so that the content
// hash of a manifest without it is what it always was).
#pragma once

#include <yaml-cpp/yaml.h>

#include "base/result.h"
#include "manifest/field_reader.h"
#include "manifest/manifest.h"

namespace lastgood::manifest_internal {

// Fewer kept records than this would leave too little to roll back to or to audit.
inline constexpr int kMinHistoryKeep = 10;
inline constexpr int kMaxHistoryKeep = 1'000'000;

// `history: { keep: N }`, N from kMinHistoryKeep to kMaxHistoryKeep.
Result<HistoryPolicy> ReadHistory(const FieldReader& reader, const Field& field);

void WriteHistory(YAML::Emitter& out, const HistoryPolicy& history);

}  // namespace lastgood::manifest_internal
