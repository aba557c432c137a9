#include "engine/release.h"

#include <filesystem>
#include <optional>
#include <unordered_map>

#include "base/mutex.h"
#include "engine/fleet_plan.h"
#include "engine/slot_instances.h"
#include "manifest/parser.h"

namespace lastgood {

namespace {

// Parsed manifests by their canonical text: a version never changes, and the intents and
// steps of one deployment load the same few manifests again and again (a warm rollback's
// path parsed one four times). Bounded; thread-safe.
class ManifestCache {
 public:
  std::optional<Manifest> Find(const std::string& text) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    auto it = parsed_.find(text);
    if (it == parsed_.end()) return std::nullopt;
    return it->second;
  }
  void Keep(const std::string& text, const Manifest& m) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    if (parsed_.size() >= kEntries) parsed_.clear();
    parsed_.emplace(text, m);
  }

 private:
  static constexpr size_t kEntries = 64;
  Mutex mu_;
  std::unordered_map<std::string, Manifest> parsed_ GUARDED_BY(mu_);
};

ManifestCache& Parsed() {
  static ManifestCache cache;
  return cache;
}

}  // namespace

Result<Manifest> LoadManifest(const EngineDeps& deps, const std::string& app, int version) {
  auto v = deps.store->GetVersion(app, version);
  if (!v.ok()) return v.error();
  if (auto cached = Parsed().Find(v->manifest)) return std::move(*cached);
  auto parsed = ParseManifest(v->manifest, {});
  if (!parsed.ok()) {
    return Error::Internal("the stored manifest of " + app + " v" + std::to_string(version) +
                           " does not parse: " + parsed.error().ToString());
  }
  Parsed().Keep(v->manifest, parsed->manifest);
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
  // On a fleet host: made there, from an artifact sent (once) and checked by digest there.
  if (deps.node)
    return deps.node->EnsureRelease(app, version, v->digest, name,
                                    deps.artifacts->PathOf(v->digest));
  return deps.artifacts->EnsureRelease(app, version, v->digest, name);
}

Result<PlanInput> PlanInputFor(const EngineDeps& deps, const std::string& app,
                               const std::string& slot, int version, const Manifest& m,
                               DeploymentKind kind) {
  PlanInput in;
  in.version = version;
  in.replicas = m.replicas;
  in.strategy = m.strategy;
  in.bake = m.bake;
  bool rollback = kind == DeploymentKind::kRollback;
  if (rollback ? m.hooks.preRollback.has_value() : m.hooks.preDeploy.has_value())
    in.preHook = rollback ? "preRollback" : "preDeploy";
  if (rollback ? m.hooks.postRollback.has_value() : m.hooks.postDeploy.has_value())
    in.postHook = rollback ? "postRollback" : "postDeploy";
  auto instances = deps.store->ListInstances(app);
  if (!instances.ok()) {
    if (instances.error().code == ErrorCode::kNotFound) return in;  // a new app
    return instances.error();
  }
  for (const auto& i : *instances) {
    if (i.host != deps.host) continue;  // another host's (docs/fleets.md)
    if (i.slot == slot) {
      if (i.version != version && IsLive(i)) ++in.oldInstances;
      if (i.version == version && i.state == InstanceState::kWarm) ++in.warmInstances;
    } else if (slot == kProductionSlot && i.slot == kPreviewSlot && i.version == version &&
               i.state == InstanceState::kReady && i.warmUntil > 0) {
      ++in.previewInstances;  // kept there by a bluegreen swap: a swap back brings it
    }
  }
  return in;
}

PlannedOperations ToOperations(const std::string& strategy, const std::vector<Step>& steps) {
  PlannedOperations out;
  out.strategy = strategy;
  int index = 0;
  for (const Step& s : steps) {
    Operation op;
    op.index = index++;
    op.step = Describe(s);
    op.spec = StepToJson(s);
    op.host = s.host;
    out.operations.push_back(std::move(op));
  }
  return out;
}

Result<PlannedOperations> PlanFor(const EngineDeps& deps, const std::string& app,
                                  const std::string& slot, int version, DeploymentKind kind) {
  auto m = LoadManifest(deps, app, version);
  if (!m.ok()) return m.error();
  if (m->fleet.enabled()) return PlanFleetFor(deps, app, slot, version, *m, kind);
  auto in = PlanInputFor(deps, app, slot, version, *m, kind);
  if (!in.ok()) return in.error();
  // Progressive strategies move production's traffic step by step; another slot is simply
  // rolled, and a rollback goes straight back (its version was good already).
  bool straight = slot != kProductionSlot || kind == DeploymentKind::kRollback;
  if (straight && (m->strategy.type == Strategy::Type::kCanary ||
                   m->strategy.type == Strategy::Type::kBlueGreen)) {
    in->strategy.type = Strategy::Type::kRolling;
  }
  const char* strategy =
      in->previewInstances >= in->replicas ? "swap" : StrategyName(in->strategy.type);
  return ToOperations(strategy, PlanDeployment(*in));
}

}  // namespace lastgood
