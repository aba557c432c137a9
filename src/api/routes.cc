// The API's route table: every route of the controller, grouped as docs/cli.md groups the
// verbs. The role column is the access rule (docs/security.md): viewers read, deployers also
// change apps and list their secrets' names, admins also manage tokens and set secrets. Bodies are
// JSON objects of the fields named here.
#include "api/verbs.h"

namespace lastgood {

std::vector<ApiRoute> DomainRoutes() {
  using auth::Role;
  return {
      {"GET", "/v1/health", Role::kViewer, Health},
      // lastgood apply -f FILE: {manifest, manifestDir, params, name, slot, whatIf,
      // rollbackOnError, artifactDigest (sent first), artifactOnServer}
      {"POST", "/v1/apply", Role::kDeployer, ApplyManifest},
      // lastgood apply over --server asks whether the controller has the artifact, and if
      // not sends it: PUT /v1/artifacts/{digest}[?executable=true] with the bytes as the
      // body, streamed (not a route: Api::BeginUpload takes it before its body is read)
      {"GET", "/v1/artifacts/{digest}", Role::kDeployer, ArtifactStatus},
      // lastgood apps | status | versions | show | diff (?a=N&b=M)
      {"GET", "/v1/apps", Role::kViewer, ListApps},
      {"GET", "/v1/apps/{app}", Role::kViewer, AppStatusOf},
      {"GET", "/v1/apps/{app}/versions", Role::kViewer, ListVersions},
      {"GET", "/v1/apps/{app}/versions/{version}", Role::kViewer, ShowVersion},
      {"GET", "/v1/apps/{app}/diff", Role::kViewer, DiffVersions},
      // lastgood history (?limit=N) | deployment (?since=SEQ&wait=MS: a long-poll)
      {"GET", "/v1/apps/{app}/deployments", Role::kViewer, ListDeployments},
      {"GET", "/v1/apps/{app}/deployments/{name}", Role::kViewer, ShowDeployment},
      // lastgood logs (?slot=S&version=N&instance=ID&since=MS&cursor=C&partial=true): what
      // the instances print may be more than a viewer should read (an app may print what it
      // should not), so it is for those who deploy the app
      {"GET", "/v1/apps/{app}/logs", Role::kDeployer, AppLogs},
      // lastgood rollback | rollforward: {to, force, whatIf, slot}; promote: {version, whatIf}
      {"POST", "/v1/apps/{app}/rollback", Role::kDeployer, RollBack},
      {"POST", "/v1/apps/{app}/rollforward", Role::kDeployer, RollForward},
      {"POST", "/v1/apps/{app}/promote", Role::kDeployer, PromoteVersion},
      // lastgood swap: {source, target, action: swap|preview|complete|cancel, whatIf}
      {"POST", "/v1/apps/{app}/swap", Role::kDeployer, SwapSlots},
      // the router's measurements (?window=10s); lastgood traffic: {slot, percent} or
      // {shares: {slot: percent}}, whatIf
      {"GET", "/v1/apps/{app}/traffic", Role::kViewer, AppTraffic},
      {"POST", "/v1/apps/{app}/traffic", Role::kDeployer, SetTrafficShares},
      // lastgood pause | resume | abort: {whatIf}
      {"POST", "/v1/apps/{app}/pause", Role::kDeployer, PauseDeployment},
      {"POST", "/v1/apps/{app}/resume", Role::kDeployer, ResumeDeployment},
      {"POST", "/v1/apps/{app}/abort", Role::kDeployer, AbortDeployment},
      // lastgood token list | create {name, role, expiresIn} (the token, shown once) | revoke
      {"GET", "/v1/tokens", Role::kAdmin, ListTokens},
      {"POST", "/v1/tokens", Role::kAdmin, CreateToken},
      {"DELETE", "/v1/tokens/{token}", Role::kAdmin, RevokeToken},
      // lastgood secret list | set (the body is the value, as is) | remove: names are for
      // those who deploy the app; values go one way, in, and only admins send them
      {"GET", "/v1/apps/{app}/secrets", Role::kDeployer, ListSecrets},
      {"PUT", "/v1/apps/{app}/secrets/{secret}", Role::kAdmin, SetSecret},
      {"DELETE", "/v1/apps/{app}/secrets/{secret}", Role::kAdmin, RemoveSecret},
      // lastgood audit (?app=APP&limit=N), newest first
      {"GET", "/v1/audit", Role::kViewer, ListAudit},
      // lastgood backup FILE: the answer is the snapshot (application/vnd.sqlite3)
      {"POST", "/v1/backup", Role::kAdmin, BackupStoreFile},
  };
}

}  // namespace lastgood
