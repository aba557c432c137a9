// The routes that change apps: apply, rollback and rollforward, promote, swap, traffic
// shares, and pause / resume / abort. Each decodes its body (unknown fields refused), makes
// the engine's request and answers the outcome. Deployers and admins may call them.
#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "engine/engine.h"

namespace lastgood {
namespace {

using nlohmann::json;

ApiResponse Answer(const Result<Outcome>& o) {
  if (!o.ok()) return ErrorResponse(o.error());
  return {200, DumpJson(OutcomeJson(*o))};
}

#define LG_FIELD(var, type, j, name)                        \
  auto var##_r = BodyField<type>(j, name);                  \
  if (!var##_r.ok()) return ErrorResponse(var##_r.error()); \
  auto var = *var##_r;

#define LG_BODY(var, ...)                                            \
  auto var##_r = ParseRequestBody(call.request.body, {__VA_ARGS__}); \
  if (!var##_r.ok()) return ErrorResponse(var##_r.error());          \
  const json& var = *var##_r;

ApiResponse Roll(const RouteCall& call, bool back) {
  LG_BODY(body, "to", "force", "whatIf", "slot");
  LG_FIELD(to, int, body, "to");
  LG_FIELD(force, bool, body, "force");
  LG_FIELD(what_if, bool, body, "whatIf");
  LG_FIELD(slot, std::string, body, "slot");
  RollRequest rr{call.app(),
                 to,
                 force.value_or(false),
                 what_if.value_or(false),
                 slot.value_or(kProductionSlot),
                 call.request.actor};
  return Answer(back ? call.engine.Rollback(rr) : call.engine.Rollforward(rr));
}

ApiResponse Control(const RouteCall& call, const char* action) {
  LG_BODY(body, "whatIf");
  LG_FIELD(what_if, bool, body, "whatIf");
  return Answer(
      call.engine.Control({call.app(), action, what_if.value_or(false), call.request.actor}));
}

}  // namespace

Status ArtifactAllowedForDeployers(const ApiOptions& options, const std::string& real) {
  auto under = [&real](const std::string& dir) {
    return !dir.empty() && real.size() > dir.size() && real.compare(0, dir.size(), dir) == 0 &&
           (dir.back() == '/' || real[dir.size()] == '/');
  };
  if (under(options.home) || real == options.home) {
    return Error::InvalidInput(
        "'" + real + "' is a file of the lastgood home; an artifact is never one", "run.artifact");
  }
  for (const auto& root : options.artifactRoots) {
    if (under(root)) return Status::Ok();
  }
  std::string roots;
  for (const auto& root : options.artifactRoots) roots += (roots.empty() ? "" : ", ") + root;
  return Error::InvalidInput(
      "'" + real + "' is not under a folder the admin allows for artifacts of callers below " +
          "admin (" +
          (roots.empty() ? "there is none: `lastgood serve --artifact-root DIR` allows one"
                         : "serve --artifact-root: " + roots) +
          "); or apply without --artifact-on-server, which sends your own file",
      "run.artifact");
}

ApiResponse ApplyManifest(const RouteCall& call) {
  LG_BODY(body, "manifest", "manifestDir", "params", "name", "slot", "whatIf", "rollbackOnError",
          "artifactDigest", "artifactOnServer");
  LG_FIELD(manifest, std::string, body, "manifest");
  LG_FIELD(dir, std::string, body, "manifestDir");
  using Params = std::map<std::string, std::string>;
  LG_FIELD(params, Params, body, "params");
  LG_FIELD(name, std::string, body, "name");
  LG_FIELD(slot, std::string, body, "slot");
  LG_FIELD(what_if, bool, body, "whatIf");
  LG_FIELD(on_error, std::string, body, "rollbackOnError");
  LG_FIELD(artifact_digest, std::string, body, "artifactDigest");
  LG_FIELD(on_server, bool, body, "artifactOnServer");
  if (!manifest)
    return ErrorResponse(Error::InvalidInput("field 'manifest' is required", "manifest"));
  ApplyRequest ar;
  ar.manifest = *manifest;
  ar.manifestDir = dir.value_or(".");
  ar.params = params.value_or(Params{});
  ar.name = name.value_or("");
  ar.slot = slot.value_or(kProductionSlot);
  ar.whatIf = what_if.value_or(false);
  ar.rollbackOnError = on_error;
  ar.actor = call.request.actor;
  ar.remote = call.request.needsToken;
  ar.artifactDigest = artifact_digest.value_or("");
  ar.artifactOnServer = on_server.value_or(false);
  if (call.request.principal.role < auth::Role::kAdmin) {
    ar.artifactAllowed = [&options = call.options](const std::string& real) {
      return ArtifactAllowedForDeployers(options, real);
    };
  }
  return Answer(call.engine.Apply(ar));
}

ApiResponse RollBack(const RouteCall& call) { return Roll(call, true); }
ApiResponse RollForward(const RouteCall& call) { return Roll(call, false); }

ApiResponse PromoteVersion(const RouteCall& call) {
  LG_BODY(body, "version", "whatIf");
  LG_FIELD(version, int, body, "version");
  LG_FIELD(what_if, bool, body, "whatIf");
  if (!version) return ErrorResponse(Error::InvalidInput("field 'version' is required", "version"));
  return Answer(
      call.engine.Promote({call.app(), *version, what_if.value_or(false), call.request.actor}));
}

ApiResponse SwapSlots(const RouteCall& call) {
  LG_BODY(body, "source", "target", "action", "whatIf");
  LG_FIELD(source, std::string, body, "source");
  LG_FIELD(target, std::string, body, "target");
  LG_FIELD(action, std::string, body, "action");
  LG_FIELD(what_if, bool, body, "whatIf");
  SwapRequest sr;
  sr.app = call.app();
  sr.source = source.value_or("staging");
  sr.target = target.value_or(kProductionSlot);
  sr.phase = action.value_or("swap");
  sr.whatIf = what_if.value_or(false);
  sr.actor = call.request.actor;
  return Answer(call.engine.Swap(sr));
}

// One slot ({slot, percent}, as the dashboard sends) or several ({shares: {slot: %}}).
ApiResponse SetTrafficShares(const RouteCall& call) {
  LG_BODY(body, "slot", "percent", "shares", "whatIf");
  LG_FIELD(slot, std::string, body, "slot");
  LG_FIELD(percent, int, body, "percent");
  using Shares = std::map<std::string, int>;
  LG_FIELD(shares, Shares, body, "shares");
  LG_FIELD(what_if, bool, body, "whatIf");
  if (shares ? (slot || percent) : (!slot || !percent))
    return ErrorResponse(
        Error::InvalidInput("give either 'slot' and 'percent', or 'shares'", "shares"));
  TrafficRequest tr;
  tr.app = call.app();
  if (shares) {
    tr.shares = *shares;
  } else {
    tr.shares[*slot] = *percent;
  }
  tr.whatIf = what_if.value_or(false);
  tr.actor = call.request.actor;
  return Answer(call.engine.SetTraffic(tr));
}

ApiResponse PauseDeployment(const RouteCall& call) { return Control(call, "pause"); }
ApiResponse ResumeDeployment(const RouteCall& call) { return Control(call, "resume"); }
ApiResponse AbortDeployment(const RouteCall& call) { return Control(call, "abort"); }

}  // namespace lastgood
