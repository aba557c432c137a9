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
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

// The receiving end of a request body that is taken as it arrives instead of held whole (an
// artifact upload of gigabytes, PUT /v1/artifacts/{digest}). The transport calls Write for
// each piece in order, then Finish once. Belongs to one connection's thread.
class ApiUpload {
 public:
  enum class End {
    kComplete,  // the whole body arrived
    kTooLarge,  // the body is longer than limit(): refused (its Content-Length said so, or it
                // went on past it)
    kStopped,   // a Write returned false
    kBroken,    // the peer left or missed a deadline: the answer goes nowhere
  };
  virtual ~ApiUpload() = default;
  virtual uint64_t limit() const = 0;
  // Takes the next bytes; false stops the upload (Finish says why).
  virtual bool Write(std::string_view bytes) = 0;
  virtual ApiResponse Finish(End end) = 0;
};

// What an upload's header got: the upload to stream into, or the answer that refuses it.
struct ApiUploadStart {
  std::unique_ptr<ApiUpload> upload;
  ApiResponse refusal;
};

// Whether a request (its header only) is an upload: nullopt when it is not, and is answered
// by the ApiHandler with its whole body as usual.
using ApiUploadHandler = std::function<std::optional<ApiUploadStart>(const ApiRequest&)>;

}  // namespace lastgood
