// The engine's apply intent: a manifest becomes a new version (its artifact stored by
// digest) and a deployment of it into a slot; the same content as what runs is a no-op.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/analysis_sequential.h"
#include "engine/diff.h"
#include "engine/engine.h"
#include "engine/fleet_plan.h"
#include "engine/release.h"
#include "engine/secret_env.h"
#include "engine/slot_now.h"
#include "history/rules.h"
#include "manifest/canonical.h"
#include "manifest/parser.h"
#include "process/confinement.h"

namespace lastgood {

Result<Outcome> Engine::Apply(const ApplyRequest& req) {
  auto parsed = ParseManifest(req.manifest, req.params);
  if (!parsed.ok()) return parsed.error();
  const Manifest& m = parsed->manifest;
  // A manifest naming hosts deploys to them (docs/fleets.md): they must be registered now.
  if (m.fleet.enabled()) {
    if (!deps_.hosts) {
      return Error::InvalidInput(
          "this controller reaches no fleet hosts; remove hosts: to deploy to this machine",
          "hosts");
    }
    auto selected = SelectedHosts(deps_, m);
    if (!selected.ok()) return selected.error();
    LG_RETURN_IF_ERROR(RefuseUnbuiltOnFleet(m));
  }
  if (deps_.confinement != nullptr) {
    // On fleet hosts the user is each host's: the node checks it there (docs/fleets.md).
    LG_RETURN_IF_ERROR(m.fleet.enabled() ? deps_.confinement->CheckRunUserAllowed(m.run.user)
                                         : deps_.confinement->CheckRunUser(m.run.user));
  }
  LG_RETURN_IF_ERROR(ValidateName(req.slot, "slot name", "--slot"));
  if (!req.name.empty()) LG_RETURN_IF_ERROR(ValidateName(req.name, "deployment name", "--name"));
  std::string on_error = req.rollbackOnError.value_or(m.rollback.onError);
  if (RollbackOnError::Parse(on_error).kind == RollbackOnError::Kind::kDeployment) {
    LG_RETURN_IF_ERROR(ValidateName(on_error, "deployment name", "--rollback-on-error"));
    auto named = deps_.store->GetDeployment(m.app, on_error);
    if (!named.ok() || named->state != DeploymentState::kSucceeded) {
      return Error::InvalidInput("--rollback-on-error names deployment '" + on_error +
                                     "', which is not a Succeeded deployment of " + m.app +
                                     "; `lastgood history " + m.app + "` lists them",
                                 "--rollback-on-error");
    }
  }

  // A secret the manifest refers to must be set before anything is stored.
  LG_RETURN_IF_ERROR(RequireSecrets(deps_, m.app, parsed->secrets));

  std::string digest;
  if (m.run.artifact.empty() && !req.artifactDigest.empty()) {
    return Error::InvalidInput("an artifact was sent, but the manifest names none in run.artifact",
                               "run.artifact");
  }
  if (!m.run.artifact.empty() && !req.artifactDigest.empty()) {
    // Sent by the caller: the stored object is the artifact, checked as a local one is. A
    // what-if sends nothing: the digest alone says whether the content changes.
    if (req.whatIf && !deps_.artifacts->Has(req.artifactDigest)) {
      digest = req.artifactDigest;
    } else if (!deps_.artifacts->Has(req.artifactDigest)) {
      return Error::InvalidInput("the artifact " + req.artifactDigest +
                                     " is not on the controller: send it first (PUT "
                                     "/v1/artifacts/DIGEST, as lastgood apply does over --server)",
                                 "run.artifact");
    } else {
      digest = req.artifactDigest;
      LG_RETURN_IF_ERROR(
          deps_.artifacts->CheckFits(deps_.artifacts->ObjectPath(digest),
                                     std::filesystem::path(m.run.artifact).filename().string()));
    }
  } else if (!m.run.artifact.empty()) {
    std::filesystem::path p(m.run.artifact);
    if (req.remote && !req.artifactOnServer) {
      return Error::InvalidInput(
          "'" + m.run.artifact +
              "' names a file on your machine, which the controller cannot read: a lastgood "
              "that uploads it sends its digest (lastgood apply over --server does); to name a "
              "file on the controller's host instead, apply with --artifact-on-server",
          "run.artifact");
    }
    if (p.is_relative() && req.remote) {
      return Error::InvalidInput(
          "'" + m.run.artifact +
              "' is relative, and --artifact-on-server names files of the controller's host "
              "by their absolute path",
          "run.artifact");
    }
    if (p.is_relative()) p = std::filesystem::path(req.manifestDir) / p;
    const std::string file = p.lexically_normal().string();
    // A what-if stores nothing: the digest alone says whether the content changes.
    bool stored = false;
    auto put = req.whatIf ? deps_.artifacts->Inspect(file, req.artifactAllowed)
                          : deps_.artifacts->Put(file, &stored, req.artifactAllowed);
    if (!put.ok()) {
      std::string what = "cannot store the artifact " + p.string() + ": " + put.error().message;
      if (put.error().code == ErrorCode::kInvalidInput) {
        return Error::InvalidInput(std::move(what), "run.artifact");
      }
      // The file was fine; the controller's side failed (a full disk, a read-only home): the
      // same apply may work once that is fixed, so it is a resource unavailable, not input.
      Error e = Error::Unavailable(std::move(what) +
                                   " (free space in the lastgood home, then apply again)");
      e.field = "run.artifact";
      return e;
    }
    digest = *put;
    // A release that would not fit (a decompression bomb) is refused now, before anything is
    // recorded, and what it stored goes again (issue 11 A6).
    Status fits = deps_.artifacts->CheckFits(
        req.whatIf ? file : deps_.artifacts->ObjectPath(digest), p.filename().string());
    if (!fits.ok()) {
      if (stored) deps_.artifacts->Remove(digest);
      return fits.error();
    }
  }
  Version v;
  v.app = m.app;
  v.manifest = ToCanonicalYaml(m);
  v.digest = digest;
  v.contentHash = Sha256String(v.manifest + "\n" + digest);
  v.params = nlohmann::json(parsed->params).dump();
  v.createdAt = deps_.clock->NowMillis();

  MutexLock lock(&mu_);
  LG_RETURN_IF_ERROR(deps_.store->CreateApp(m.app, v.createdAt));
  auto now = ReadSlot(*deps_.store, m.app, req.slot);
  if (!now.ok()) return now.error();
  if (now->active && !req.whatIf) {
    return Error::Conflict("deployment " + now->active->name + " of " + m.app + " is running (v" +
                           std::to_string(now->active->version) +
                           "); wait for it to end, or `lastgood rollback " + m.app +
                           "` to stop it");
  }
  // A taken name is refused before anything is stored (the store refuses it too, later).
  if (!req.name.empty() && !req.whatIf && deps_.store->GetDeployment(m.app, req.name).ok()) {
    return Error::Conflict("the deployment name " + req.name + " of " + m.app +
                           " is taken; choose another --name");
  }
  std::string running_manifest;
  std::optional<std::string> rotated;  // a secret set after the running instances started
  if (now->running > 0) {
    auto rv = deps_.store->GetVersion(m.app, now->running);
    if (!rv.ok()) return rv.error();
    running_manifest = rv->manifest;
    if (rv->contentHash == v.contentHash)
      rotated = SecretRotatedUnder(deps_, m.app, req.slot, now->running, m);
    if (rv->contentHash == v.contentHash && !rotated) {
      Outcome o;
      o.app = m.app;
      o.noop = true;
      o.version = now->running;
      o.slot = req.slot;
      o.message = m.app + " v" + std::to_string(now->running) + " already runs in " + req.slot +
                  " with this content; nothing to do";
      return o;
    }
  }
  auto versions = deps_.store->ListVersions(m.app);
  if (!versions.ok()) return versions.error();

  Outcome o;
  o.app = m.app;
  o.slot = req.slot;
  o.kind = "deploy";
  o.strategy = StrategyName(m.strategy.type);
  o.fromVersion = now->running;
  o.diff = UnifiedDiff(running_manifest, v.manifest, VersionLabel(m.app, now->running),
                       m.app + " (new version)");
  if (rotated) {
    // Same content, but the instances run with a secret's old value: a new version of the
    // same content starts instances that read the new one (docs/secrets.md, Rotation).
    o.message = "secret " + *rotated + " was set after the instances of v" +
                std::to_string(now->running) + " started: a new version of the same content " +
                "restarts them with its new value";
  }
  if (req.whatIf) {
    o.whatIf = true;
    o.version = NextVersionNumber(*versions);
    if (m.fleet.enabled()) {
      auto plan = PlanFleetFor(deps_, m.app, req.slot, o.version, m, DeploymentKind::kDeploy);
      if (!plan.ok()) return plan.error();
      for (const auto& op : plan->operations) o.plan.push_back(PlanLine(op));
    } else {
      auto in = PlanInputFor(deps_, m.app, req.slot, o.version, m, DeploymentKind::kDeploy);
      if (!in.ok()) return in.error();
      if (req.slot != kProductionSlot) in->strategy.type = Strategy::Type::kRolling;  // as PlanFor
      for (const Step& s : PlanDeployment(*in))
        o.plan.push_back(Describe(s) + ForecastNote(deps_, s, m, req.slot));
    }
    o.message = (rotated ? o.message + "; " : std::string()) + "would create " + m.app + " v" +
                std::to_string(o.version) + " and deploy it to " + req.slot;
    return o;
  }
  auto number = deps_.store->AddVersion(v);
  if (!number.ok()) return number.error();
  o.newVersion = true;
  o.version = *number;
  o.diff = UnifiedDiff(running_manifest, v.manifest, VersionLabel(m.app, now->running),
                       VersionLabel(m.app, o.version));

  Prepared p;
  p.deployment.app = m.app;
  p.deployment.name = req.name;
  p.deployment.version = o.version;
  p.deployment.slot = req.slot;
  p.deployment.kind = DeploymentKind::kDeploy;
  p.deployment.actor = req.actor;
  p.deployment.rollbackOnError = RollbackOnError::Parse(on_error);
  p.deployment.fromVersion = now->running;
  p.outcome = o;
  lock.Unlock();
  auto started = StartDeployment(std::move(p), false);
  // Refused after all (another apply won the race, the controller is stopping): the version
  // made for it goes too, so that a refused apply leaves nothing behind.
  if (!started.ok()) {
    if (Status s = deps_.store->DeleteUnusedVersion(m.app, o.version); !s.ok()) {
      Error e = started.error();
      e.message +=
          " (version " + std::to_string(o.version) + " was left behind: " + s.error().message + ")";
      return e;
    }
  }
  return started;
}

}  // namespace lastgood
