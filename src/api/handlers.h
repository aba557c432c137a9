// Api: the controller's HTTP/JSON API under /v1, independent of any transport: a request
// in, a response out (wire/request.h). The CLI is a thin client of it; every verb maps to
// one route, and the routes are a table (api/routes.cc: method, pattern, role, handler).
//
// Access (api/access.cc): a request over TCP carries a bearer token; a missing, wrong or
// revoked one gets 401 {"error":"unauthorized"} and nothing else; a role below the route's
// gets 403. Every mutation and every refused attempt (401, 403, 400) is appended to the
// audit with who, from where, what and the result.
//
// Bodies are JSON objects; unknown fields, wrong types and oversized bodies are refused
// with 400 and change nothing. Thread-safe (the engine and store are) once its routes are
// added.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "api/route.h"
#include "engine/engine.h"
#include "store/store.h"
#include "wire/json_text.h"
#include "wire/request.h"

namespace lastgood {

inline constexpr int kDefaultHistoryLimit = 100;
inline constexpr int kMaxHistoryLimit = 10'000;
inline constexpr int kMaxWaitMillis = 30'000;

class SecretBox;
class ArtifactUploads;
class Fleet;

// What the API is told by `lastgood serve`.
struct ApiOptions {
  std::string storePath;         // the SQLite store's file: POST /v1/backup snapshots it
  SecretBox* secrets = nullptr;  // the app's secrets; null: the secret routes answer 503
  // `serve --audit-keep`: audit rows older than this are deleted (0: all are kept).
  Millis auditKeep{0};
  // Whose files a caller below admin may name as run.artifact (issue 11 B4): only files
  // under these folders (`serve --artifact-root`, real paths), never one of `home`.
  std::vector<std::string> artifactRoots;
  std::string home;  // the real path of the home
  // Artifacts sent by a remote apply (artifacts/upload.h); null: uploads answer 503.
  ArtifactUploads* uploads = nullptr;
  // `serve --max-upload-size`: the largest artifact one upload may send.
  uint64_t maxUploadBytes = 0;
  std::string logsRoot;  // "<home>/logs": the instances' output (api/instance_logs.h)
  // The fleet's hosts, whose nodes `lastgood logs` asks for their instances' output; null:
  // this machine only.
  Fleet* fleet = nullptr;
};

// How often the audit is pruned when --audit-keep is set.
inline constexpr int64_t kAuditPruneIntervalMillis = 3'600'000;

class AuditFolder;

class Api {
 public:
  Api(Engine* engine, Store* store, ApiOptions options = {});
  ~Api();
  // Authenticates and authorizes the request, routes it and audits it (api/access.cc).
  ApiResponse Handle(const ApiRequest& request);
  // Adds a route served by a module above api (the dashboard's logins), after the same
  // checks as every route. REQUIRES: called before the first request.
  void AddRoute(ApiRoute route);
  // Upkeep, about once a second: writes the counts of folded refusals, and prunes the audit
  // by age (--audit-keep; at start and then hourly), auditing the pruning itself.
  void Housekeep(int64_t now);
  // PUT /v1/artifacts/{digest} (api/uploads.cc): an upload whose body is taken as it arrives,
  // after the same checks as a route of role deployer; the refusal otherwise. Audited when
  // it ends, without its content.
  ApiUploadStart BeginUpload(const ApiRequest& header);

 private:
  AuditEntry AuditEntryFor(const ApiRequest& req, int64_t now) const;
  // Appends `entry` with its outcome (refusals folded).
  void Audit(AuditEntry entry, int status, const std::string& message);
  // For a request that needs a token: sets req->principal from in.bearer, or returns the 401
  // (audited). nullopt when the request may go on.
  std::optional<ApiResponse> Authenticate(const ApiRequest& in, ApiRequest* req, AuditEntry* entry,
                                          int64_t now);
  // The 403 (audited) when req's principal is below `needed`.
  std::optional<ApiResponse> Forbidden(const ApiRequest& req, auth::Role needed,
                                       const AuditEntry& entry);

  Engine* engine_;
  Store* store_;
  const ApiOptions options_;
  std::vector<ApiRoute> routes_;  // constant once serving
  std::unique_ptr<AuditFolder> folder_;
  int64_t last_prune_ = 0;  // touched by Housekeep only
};

}  // namespace lastgood
