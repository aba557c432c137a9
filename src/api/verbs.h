// The API's handlers, one per verb, and the table that routes to them (api/routes.cc).
// Internal to api/. Each handler is called by Api::Handle once the caller is allowed and
// the names in the path ({app}, {token}) are valid; it decodes its query or body, refusing
// what it does not know (400), and never throws on input.
#pragma once

#include <vector>

#include "api/route.h"

namespace lastgood {

// The controller's own routes (api/routes.cc).
std::vector<ApiRoute> DomainRoutes();

// By the file that holds them:
// api/app_reads.cc
ApiResponse Health(const RouteCall& call);
ApiResponse ListApps(const RouteCall& call);
ApiResponse AppStatusOf(const RouteCall& call);
ApiResponse ListVersions(const RouteCall& call);
ApiResponse ShowVersion(const RouteCall& call);
ApiResponse DiffVersions(const RouteCall& call);
ApiResponse AppTraffic(const RouteCall& call);
ApiResponse ListDeployments(const RouteCall& call);
ApiResponse ShowDeployment(const RouteCall& call);
// api/app_actions.cc
ApiResponse ApplyManifest(const RouteCall& call);
// Whether a caller below admin may name the file at `real_path` (every symlink followed) as
// run.artifact: only under one of options.artifactRoots, never in the home (issue 11 B4).
Status ArtifactAllowedForDeployers(const ApiOptions& options, const std::string& real_path);
ApiResponse RollBack(const RouteCall& call);
ApiResponse RollForward(const RouteCall& call);
ApiResponse PromoteVersion(const RouteCall& call);
ApiResponse SwapSlots(const RouteCall& call);
ApiResponse SetTrafficShares(const RouteCall& call);
ApiResponse PauseDeployment(const RouteCall& call);
ApiResponse ResumeDeployment(const RouteCall& call);
ApiResponse AbortDeployment(const RouteCall& call);
// api/logs.cc: the output of an app's instances (api/instance_logs.h)
ApiResponse AppLogs(const RouteCall& call);
// api/uploads.cc: GET /v1/artifacts/{digest} ({digest, stored, maxBytes}: whether the
// controller has it, and the upload limit); PUT is an upload, taken as it arrives
// (Api::BeginUpload).
ApiResponse ArtifactStatus(const RouteCall& call);
bool IsArtifactUpload(const ApiRequest& header);
// api/tokens.cc
ApiResponse ListTokens(const RouteCall& call);
ApiResponse CreateToken(const RouteCall& call);
ApiResponse RevokeToken(const RouteCall& call);
// api/audit.cc
ApiResponse ListAudit(const RouteCall& call);
// api/secrets.cc
ApiResponse ListSecrets(const RouteCall& call);
ApiResponse SetSecret(const RouteCall& call);
ApiResponse RemoveSecret(const RouteCall& call);
// api/backup.cc
ApiResponse BackupStoreFile(const RouteCall& call);

}  // namespace lastgood
