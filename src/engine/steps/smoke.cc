// The smoke step: bluegreen's smoke test, run against the new version in the preview slot
// before any production request reaches it. On the controller's machine it runs as a hook
// does (its output in the hooks' log); on a fleet host it runs there, through the host's
// node (POST /v1/probe, an exec probe in the version's release directory), against that
// host's preview instances, so that a host whose preview fails is not switched.
#include "engine/confine.h"
#include "engine/release.h"
#include "engine/secret_env.h"
#include "engine/slot_instances.h"
#include "engine/steps/steps.h"
#include "hooks/hook_runner.h"

namespace lastgood {
namespace {

// What the smoke test is told: the deployment, the app's environment, where the preview
// answers, and this host's ready preview instances of the version.
Result<std::vector<std::pair<std::string, std::string>>> SmokeEnv(const EngineDeps& deps,
                                                                  const Deployment& d,
                                                                  const Manifest& m, int version) {
  auto env = CommandEnv(d, version, kPreviewSlot);
  LG_RETURN_IF_ERROR(AddAppEnv(deps, d.app, m, &env));
  if (!m.route.preview.empty())
    env.emplace_back("LASTGOOD_PREVIEW_URL", "http://" + m.route.preview);
  if (!deps.host.empty()) env.emplace_back("LASTGOOD_HOST", deps.host);
  auto instances = deps.store->ListInstances(d.app);
  if (instances.ok()) {
    std::string list;
    for (const auto& i : *instances) {
      if (i.host == deps.host && i.slot == kPreviewSlot && i.version == version &&
          i.state == InstanceState::kReady)
        list += (list.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(i.port);
    }
    env.emplace_back("LASTGOOD_INSTANCES", list);
  }
  return env;
}

// On fleet host deps.host: the node runs the command where the preview instances listen. A
// failing smoke test fails this host's step, and its preview instances of the version stop
// (the host is not switched; it serves what it served).
StepResult RunSmokeOnHost(StepContext& ctx, const Step& step, const std::string& release) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Hook& smoke = *ctx.manifest().strategy.blueGreen.smokeTest;
  auto env = SmokeEnv(deps, d, ctx.manifest(), step.version);
  if (!env.ok()) return StepResult::Failed("smokeTest could not start: " + env.error().message);
  ProbeSpec spec;
  spec.kind = ProbeSpec::Kind::kExec;
  spec.command = smoke.command;
  spec.env = *env;
  spec.cwd = release;
  spec.app = d.app;  // the node confines it as the app's instances there
  spec.runUser = ctx.manifest().run.user;
  spec.timeout = smoke.timeout;
  ProbeResult r = ProbeOn(deps, spec);
  if (r.ok) return StepResult::Ok("smokeTest on " + deps.host + ": " + r.detail);
  std::string detail = "smokeTest failed on " + deps.host + ": " + r.detail;
  auto instances = deps.store->ListInstances(d.app);
  if (!instances.ok()) return StepResult::Failed(detail);
  std::vector<InstanceRecord> preview;
  for (const auto& i : *instances) {
    if (i.host == deps.host && i.slot == kPreviewSlot && i.version == step.version)
      preview.push_back(i);
  }
  SlotInstances slot(deps, d.app, kPreviewSlot, [] { return StepResult::Kind::kOk; });
  StepResult retired = slot.Retire(preview);
  if (retired.kind != StepResult::Kind::kOk)
    return StepResult::Failed(detail +
                              "; its preview instances could not be stopped: " + retired.detail);
  return StepResult::Failed(detail + "; its preview instances were stopped");
}

}  // namespace

StepResult RunSmoke(StepContext& ctx, const Step& step) {
  const EngineDeps& deps = ctx.deps();
  const Deployment& d = ctx.deployment();
  const Manifest& m = ctx.manifest();
  if (!m.strategy.blueGreen.smokeTest) return StepResult::Ok("no smoke test");
  auto release = ReleaseDirFor(deps, d.app, step.version);
  if (!release.ok()) return StepResult::Failed(release.error().message);
  if (!deps.host.empty()) return RunSmokeOnHost(ctx, step, *release);
  HookRun run;
  run.name = "smokeTest";
  run.command = m.strategy.blueGreen.smokeTest->command;
  run.timeout = m.strategy.blueGreen.smokeTest->timeout;
  auto env = SmokeEnv(deps, d, m, step.version);
  if (!env.ok()) return StepResult::Failed("smokeTest could not start: " + env.error().message);
  run.env = *env;
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
