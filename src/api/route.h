// A route of the API as data: method, path pattern, the role a caller needs, and the
// handler (issue 12: the table, api/routes.cc, reads like docs/cli.md). Api::Handle
// (api/access.cc) finds the route, checks the role, validates the names in the path and
// calls the handler; a handler only does its verb.
//
// Thread-safety: the table is built once and only read; handlers are thread-safe (the
// engine and store are).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "wire/request.h"

namespace lastgood {

class Engine;
class Store;
struct ApiOptions;
class AuditFolder;

// One request matched to a route: what its handler gets.
struct RouteCall {
  const ApiRequest& request;
  Engine& engine;
  Store& store;
  const ApiOptions& options;
  AuditFolder& refusals;  // folded refusals (api/audit_folder.h), flushed before a listing
  std::map<std::string, std::string> path;   // {app} → "web", from the pattern
  std::map<std::string, std::string> query;  // as sent (not percent-decoded)

  const std::string& app() const { return path.at("app"); }
  // The query value of `key`, if the query has it.
  std::optional<std::string> Query(const std::string& key) const;
};

using ApiRouteHandler = std::function<ApiResponse(const RouteCall&)>;

struct ApiRoute {
  std::string method;   // "GET", "POST", "DELETE"
  std::string pattern;  // "/v1/apps/{app}/versions/{version}": {x} matches one segment
  auth::Role role;      // the lowest role allowed to call it
  ApiRouteHandler handler;
};

// "a=1&b" → {a: "1", b: ""}: values as sent, not percent-decoded (the first of a repeated key).
std::map<std::string, std::string> ParseQuery(const std::string& query);

// The route of `method` and `target` (path and query) in `routes`, with its path
// parameters and query filled in `*path` and `*query`; nullptr if none matches.
const ApiRoute* MatchRoute(const std::vector<ApiRoute>& routes, const std::string& method,
                           const std::string& target, std::map<std::string, std::string>* path,
                           std::map<std::string, std::string>* query);

}  // namespace lastgood
