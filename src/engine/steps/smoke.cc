// The smoke step: bluegreen's smoke test, run against the new version in the preview slot
// before any production request reaches it.
#include "engine/confine.h"
#include "engine/release.h"
#include "engine/secret_env.h"
#include "engine/steps/steps.h"
#include "hooks/hook_runner.h"

namespace lastgood {

StepResult RunSmoke(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  if (!m.strategy.blueGreen.smokeTest) return StepResult::Ok("no smoke test");
  auto release = ReleaseDirFor(deps, d.app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  HookRun run;
  run.name = "smokeTest";
  run.command = m.strategy.blueGreen.smokeTest->command;
  run.timeout = m.strategy.blueGreen.smokeTest->timeout;
  run.env = CommandEnv(d, step.version, kPreviewSlot);
  if (auto s = AddAppEnv(deps, d.app, m, &run.env); !s.ok())
    return StepResult::Failed("smokeTest could not start: " + s.error().message);
  if (!m.route.preview.empty())
    run.env.emplace_back("LASTGOOD_PREVIEW_URL", "http://" + m.route.preview);
  auto instances = deps.store->ListInstances(d.app);
  if (instances.ok()) {
    std::string list;
    for (const auto& i : *instances) {
      if (i.slot == kPreviewSlot && i.version == step.version && i.state == InstanceState::kReady)
        list += (list.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(i.port);
    }
    run.env.emplace_back("LASTGOOD_INSTANCES", list);
  }
  run.cwd = *release;
  auto box = SandboxFor(deps, m, *release, d.app + " smokeTest");
  if (!box.ok()) return StepResult::Failed("smokeTest could not start: " + box.error().message);
  run.sandbox = *box;
  run.logPath = deps.logDir + "/" + d.app + "/hooks/" + d.name + "-smokeTest.log";
  auto r = lastgood::RunHook(run, [&] { return ctx.Interrupted() != StepResult::Kind::kOk; });
  if (!r.ok()) return StepResult::Failed("smokeTest could not start: " + r.error().message);
  if (r->interrupted) return {ctx.Interrupted(), r->Describe()};
  if (!r->ok) return StepResult::Failed(r->Describe());
  return StepResult::Ok(r->Describe());
}

}  // namespace lastgood
