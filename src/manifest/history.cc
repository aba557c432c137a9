#include "manifest/history.h"

namespace lastgood::manifest_internal {

Result<HistoryPolicy> ReadHistory(const FieldReader& r, const Field& f) {
  HistoryPolicy history;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"keep"}));
  if (auto v = fields.Get("keep")) {
    LG_MANIFEST_ASSIGN(history.keep, r.Int(*v, kMinHistoryKeep, kMaxHistoryKeep));
  }
  return history;
}

void WriteHistory(YAML::Emitter& out, const HistoryPolicy& history) {
  if (history.keep == 0) return;
  out << YAML::Key << "history" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "keep" << YAML::Value << history.keep;
  out << YAML::EndMap;
}

}  // namespace lastgood::manifest_internal
