// The hook step: runs the manifest's preDeploy, postDeploy, preRollback or postRollback
// command in the version's release directory, with the version's environment (its secrets
// revealed, engine/secret_env.h) and the deployment's LASTGOOD_* variables.
#include "engine/confine.h"
#include "engine/release.h"
#include "engine/secret_env.h"
#include "engine/steps/steps.h"
#include "hooks/hook_runner.h"

namespace lastgood {

std::vector<std::pair<std::string, std::string>> CommandEnv(const Deployment& d, int version,
                                                            const std::string& slot) {
  return {{"LASTGOOD_APP", d.app},
          {"LASTGOOD_VERSION", std::to_string(version)},
          {"LASTGOOD_SLOT", slot},
          {"LASTGOOD_DEPLOYMENT", d.name}};
}

StepResult RunHook(StepContext& ctx, const Step& step) {
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  const std::optional<Hook>* hook = step.name == "preDeploy"      ? &m.hooks.preDeploy
                                    : step.name == "postDeploy"   ? &m.hooks.postDeploy
                                    : step.name == "preRollback"  ? &m.hooks.preRollback
                                    : step.name == "postRollback" ? &m.hooks.postRollback
                                                                  : nullptr;
  if (hook == nullptr || !*hook) return StepResult::Ok(step.name + ": none in this version");
  auto release = ReleaseDirFor(ctx.deps(), d.app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  HookRun run;
  run.name = step.name;
  run.command = (*hook)->command;
  run.timeout = (*hook)->timeout;
  run.env = CommandEnv(d, step.version, d.slot);
  if (auto s = AddAppEnv(ctx.deps(), d.app, m, &run.env); !s.ok())
    return StepResult::Failed(step.name + " could not start: " + s.error().message);
  run.cwd = *release;
  auto box = SandboxFor(ctx.deps(), m, *release, d.app + " " + step.name);
  if (!box.ok()) return StepResult::Failed(step.name + " could not start: " + box.error().message);
  run.sandbox = *box;
  run.logPath = ctx.deps().logDir + "/" + d.app + "/hooks/" + d.name + "-" + step.name + ".log";
  auto outcome = lastgood::RunHook(run, [&] { return ctx.Interrupted() != StepResult::Kind::kOk; });
  if (!outcome.ok())
    return StepResult::Failed(step.name + " could not start: " + outcome.error().message);
  if (outcome->interrupted) return {ctx.Interrupted(), outcome->Describe()};
  // After traffic has moved, a failing post hook is reported, not undone: the release itself
  // passed its gates (docs/behaviour.md).
  // A failing rollback hook is recorded but never stops a rollback (docs/manifest.md).
  bool fatal = step.name == "preDeploy";
  if (!outcome->ok && fatal) return StepResult::Failed(outcome->Describe());
  return StepResult::Ok(outcome->Describe() + (outcome->ok ? "" : " (not fatal: recorded only)"));
}

}  // namespace lastgood
