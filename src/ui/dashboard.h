// Dashboard: the controller's web UI (issue 6, docs/dashboard.md). A second HTTP listener
// (`lastgood serve --ui ADDR`) that serves the built page (web/ → build/ui/), the same /v1
// API as the unix socket (through the same Api), server-sent events for live views, and a
// per-second traffic history per app for the canary charts.
//
// Everything needs a session (a cookie from a one-time login link that `lastgood dashboard`
// prints) except GET /login and the login-needed page; every non-GET request needs the
// session's CSRF token in X-CSRF-Token; a session's role limits its /v1 calls exactly as a
// token's role does (the API's route table checks both).
//
// Thread-safe. Start() once; Stop() from any thread, idempotent; the destructor stops.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "wire/request.h"

namespace lastgood::ui {

inline constexpr char kDefaultAddress[] = "127.0.0.1:7071";
inline constexpr int kMaxConnections = 64;
inline constexpr int kMaxEventStreams = 32;
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;

struct DashboardOptions {
  std::string address = kDefaultAddress;  // "HOST:PORT"; port 0 picks a free one
  std::string assets;                     // directory with index.html; "" = DefaultAssetsDir()
  bool sample_traffic = true;             // sample each app's traffic once a second
};

class Dashboard {
 public:
  Dashboard(ApiHandler api, DashboardOptions options, Clock* clock = Clock::Real());
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Binds the address and starts serving (and sampling) on threads of its own.
  // Unavailable if the address cannot be bound; InvalidInput if it does not parse.
  Status Start();
  void Stop();

  // "http://HOST:PORT" of the bound listener (after Start).
  std::string Url() const;

  // POST /v1/ui/logins {"role"?: "viewer"|"deployer"|"admin" (default admin), "name"?}:
  // a one-time login link. Added to the controller's Api as an admin-only route. Answers
  // {"url", "expiresAt", "role", "name"}.
  ApiResponse HandleLogins(const ApiRequest& request);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lastgood::ui
