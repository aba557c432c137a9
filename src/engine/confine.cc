#include "engine/confine.h"

#include "engine/release.h"
#include "process/confinement.h"

namespace lastgood {

Result<Sandbox> SandboxFor(const EngineDeps& deps, const Manifest& m,
                           const std::string& release_dir, const std::string& label) {
  if (deps.confinement == nullptr) return Sandbox{};
  return deps.confinement->For(m.app, m.run.user, release_dir, label);
}

ConfinementView ConfinementOf(const EngineDeps& deps, const std::string& app, int version) {
  if (deps.confinement == nullptr) {
    return {"none", "NONE: this controller was started without confinement", ""};
  }
  Confinement& c = *deps.confinement;
  std::string run_user;
  if (version > 0) {
    if (auto m = LoadManifest(deps, app, version); m.ok()) run_user = m->run.user;
  }
  return {c.Mode(), c.Describe(), c.RunsAs(app, run_user)};
}

}  // namespace lastgood
