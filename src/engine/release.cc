#include "engine/release.h"

#include <filesystem>

#include "engine/slot_instances.h"
#include "manifest/parser.h"

namespace lastgood {

Result<Manifest> LoadManifest(const EngineDeps& deps, const std::string& app, int version) {
  auto v = deps.store->GetVersion(app, version);
  if (!v.ok()) return v.error();
  auto parsed = ParseManifest(v->manifest, {});
  if (!parsed.ok()) {
    return Error::Internal("the stored manifest of " + app + " v" + std::to_string(version) +
                           " does not parse: " + parsed.error().ToString());
  }
  return std::move(parsed->manifest);
}

Result<std::string> ReleaseDirFor(const EngineDeps& deps, const std::string& app, int version) {
  auto v = deps.store->GetVersion(app, version);
  if (!v.ok()) return v.error();
  std::string name;
  if (!v->digest.empty()) {
    auto m = LoadManifest(deps, app, version);
    if (!m.ok()) return m.error();
    name = std::filesystem::path(m->run.artifact).filename().string();
  }
  return deps.artifacts->EnsureRelease(app, version, v->digest, name);
}

Result<PlannedOperations> PlanFor(const EngineDeps& deps, const std::string& app,
                                  const std::string& slot, int version) {
  auto m = LoadManifest(deps, app, version);
  if (!m.ok()) return m.error();
  auto instances = deps.store->ListInstances(app);
  if (!instances.ok()) return instances.error();
  PlanInput in;
  in.version = version;
  in.replicas = m->replicas;
  in.strategy = m->strategy;
  in.bake = m->bake;
  for (const auto& i : *instances) {
    if (i.slot != slot) continue;
    if (i.version != version && IsLive(i)) ++in.oldInstances;
    if (i.version == version && i.state == "warm") ++in.warmInstances;
  }
  PlannedOperations out;
  out.strategy = StrategyName(m->strategy.type);
  int index = 0;
  for (const Step& s : PlanDeployment(in)) {
    Operation op;
    op.index = index++;
    op.step = Describe(s);
    op.spec = StepToJson(s);
    out.operations.push_back(std::move(op));
  }
  return out;
}

}  // namespace lastgood
