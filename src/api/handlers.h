// Api: the controller's HTTP/JSON API under /v1, independent of any transport: a request
// in, a response out. The CLI is a thin client of it; every verb maps to one route:
//
//   GET  /v1/health
//   GET  /v1/apps
//   GET  /v1/apps/{app}                         status
//   GET  /v1/apps/{app}/versions
//   GET  /v1/apps/{app}/versions/{n}            one version with its manifest
//   GET  /v1/apps/{app}/diff?a=N&b=M
//   GET  /v1/apps/{app}/traffic?window=10s       the router's measurements, per version
//   GET  /v1/apps/{app}/deployments?limit=N     history, newest first
//   GET  /v1/apps/{app}/deployments/{name}?since=SEQ&wait=MS   (long-poll for a change)
//   POST /v1/apply                              {manifest, manifestDir, params, name, slot,
//                                                whatIf, rollbackOnError}
//   POST /v1/apps/{app}/rollback                {to, force, whatIf, slot}
//   POST /v1/apps/{app}/rollforward             {to, force, whatIf, slot}
//   POST /v1/apps/{app}/promote                 {version, whatIf}
//   POST /v1/apps/{app}/swap                    {source, target, action: swap|preview|
//                                                complete|cancel, whatIf}
//   POST /v1/apps/{app}/traffic                 {slot, percent, whatIf}
//   POST /v1/apps/{app}/pause|resume|abort      {whatIf}
//   GET  /v1/tokens                              admin (api/tokens.cc); never the secrets
//   POST /v1/tokens                              {name, role} → the token, shown once
//   DELETE /v1/tokens/{name}                     revoke
//   GET  /v1/audit?app=&limit=N                  newest first (api/audit.cc)
//
// Access (api/access.cc): a request over TCP carries a bearer token; a missing, wrong or
// revoked one gets 401 {"error":"unauthorized"} and nothing else; a role too low for the
// route (auth::Allows) gets 403. Every mutation and every refused attempt (401, 403, 400)
// is appended to the audit with who, from where, what and the result.
//
// Bodies are JSON objects; unknown fields, wrong types and oversized bodies are refused
// with 400 and change nothing. Thread-safe (the engine and store are).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth.h"
#include "engine/engine.h"
#include "store/store.h"
#include "wire/json_text.h"
#include "wire/request.h"

namespace lastgood {

inline constexpr int kDefaultHistoryLimit = 100;
inline constexpr int kMaxHistoryLimit = 10'000;
inline constexpr int kMaxWaitMillis = 30'000;

class Api {
 public:
  Api(Engine* engine, Store* store) : engine_(engine), store_(store) {}
  // Authenticates and authorizes the request, routes it and audits it (api/access.cc).
  ApiResponse Handle(const ApiRequest& request);
  // Serves the targets under `prefix` (e.g. "/v1/ui/") with `handler`, after the same
  // checks as every route: how a module above api (the dashboard) adds its routes.
  // REQUIRES: called before the first request.
  void Mount(std::string prefix, std::function<ApiResponse(const ApiRequest&)> handler) {
    mounts_.emplace_back(std::move(prefix), std::move(handler));
  }

 private:
  // The routes of the domain (handlers.cc); the caller is already allowed.
  ApiResponse Route(const ApiRequest& request);
  ApiResponse Tokens(const ApiRequest& request);  // api/tokens.cc
  ApiResponse Audit(const ApiRequest& request);   // api/audit.cc

  Engine* engine_;
  Store* store_;
  std::vector<std::pair<std::string, std::function<ApiResponse(const ApiRequest&)>>> mounts_;
};

}  // namespace lastgood
