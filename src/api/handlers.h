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

// What the API is told by `lastgood serve`.
struct ApiOptions {
  std::string storePath;  // the SQLite store's file: POST /v1/backup snapshots it
  SecretBox* secrets = nullptr;  // the app's secrets; null: the secret routes answer 503
};

class Api {
 public:
  Api(Engine* engine, Store* store, ApiOptions options = {});
  // Authenticates and authorizes the request, routes it and audits it (api/access.cc).
  ApiResponse Handle(const ApiRequest& request);
  // Adds a route served by a module above api (the dashboard's logins), after the same
  // checks as every route. REQUIRES: called before the first request.
  void AddRoute(ApiRoute route);

 private:
  Engine* engine_;
  Store* store_;
  const ApiOptions options_;
  std::vector<ApiRoute> routes_;  // constant once serving
};

}  // namespace lastgood
