// What crosses the controller's API, independent of transport and of who serves it: one
// request in, one response out. The API (api/handlers.h) answers these; the transports (the
// unix socket, --listen, the dashboard) build them from HTTP. A small header of its own so
// that the dashboard, which sits above nothing but auth, can call the API without including
// it (the ui <-> api include cycle of issue 12).
//
// Plain values; share them like any other value.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "auth/auth.h"

namespace lastgood {

inline constexpr size_t kMaxRequestBody = 2 << 20;
// The header every API answer carries with the answering binary's build id (base/build_id.h),
// so that a client of another build can say so.
inline constexpr char kBuildIdHeader[] = "Lastgood-Build-Id";

struct ApiRequest {
  std::string method;  // "GET", "POST"
  std::string target;  // path and query: "/v1/apps/web/deployments?limit=5"
  std::string body;
  std::string actor;  // who asks: "local:root", "token:ci-bot" (= principal.name once known)
  // Set by the transport: the unix socket's peer (the local admin), or for TCP only `from`
  // (the peer's address), the role and name coming from `bearer`.
  auth::Principal principal;
  bool needsToken = false;  // TCP: authenticate `bearer` first
  std::string bearer;       // the token of "Authorization: Bearer …"; never logged or audited
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON, unless contentType says otherwise
  std::string contentType = "application/json";
};

// The API as a function: what the dashboard is handed (the controller's Api::Handle).
using ApiHandler = std::function<ApiResponse(const ApiRequest&)>;

}  // namespace lastgood
