// Sessions: the dashboard's logins and browser sessions, in the controller's memory.
//
// A login is made by `lastgood dashboard` (the local admin, over the unix socket): a
// one-time token that the printed link carries. Redeeming it (GET /login?token=…) consumes
// it and opens a session: a random cookie value and a random CSRF token. Only SHA-256
// hashes of the login token and of the cookie are kept; the CSRF token is kept as is (it is
// not a credential on its own: it is useless without the cookie, and the page reads it from
// GET /v1/session). Sessions end at their expiry or at logout, and all of them when the
// controller stops (a restart asks for a new `lastgood dashboard`).
//
// Thread-safe: every method takes the one mutex briefly.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/result.h"

namespace lastgood::ui {

inline constexpr int64_t kLoginTtlMillis = 10 * 60 * 1000;         // the printed link
inline constexpr int64_t kSessionTtlMillis = 12 * 60 * 60 * 1000;  // a working day
inline constexpr size_t kMaxPendingLogins = 64;
inline constexpr size_t kMaxSessions = 256;

struct Session {
  std::string name;  // who logged in: "local:root", "local:root (viewer)"
  auth::Role role = auth::Role::kViewer;
  std::string csrf;  // what X-CSRF-Token must carry
  int64_t expiresAt = 0;
};

struct Login {
  std::string token;  // the one-time token; shown once, never kept
  int64_t expiresAt = 0;
};

struct OpenedSession {
  std::string cookie;  // the session cookie's value; never kept
  Session session;
};

class Sessions {
 public:
  explicit Sessions(Clock* clock) : clock_(clock) {}

  // A new one-time login for `name` with `role`, valid kLoginTtlMillis. The oldest pending
  // login is dropped when kMaxPendingLogins are waiting.
  Result<Login> CreateLogin(const std::string& name, auth::Role role);
  // Consumes the login and opens a session. NotFound if the token is unknown, used or
  // expired (one message for all three: a guesser learns nothing).
  Result<OpenedSession> Redeem(const std::string& login_token);
  // The live session of a cookie value, if any.
  std::optional<Session> Find(const std::string& cookie);
  // Ends the session of a cookie value (no-op if there is none).
  void End(const std::string& cookie);
  // Whether `header` carries the session's CSRF token (constant time).
  static bool CsrfMatches(const Session& session, const std::string& header);

 private:
  void DropExpired(int64_t now);  // REQUIRES: mu_ held

  Clock* const clock_;
  std::mutex mu_;
  struct PendingLogin {
    std::string name;
    auth::Role role;
    int64_t expiresAt;
  };
  std::map<std::string, PendingLogin> logins_;  // GUARDED_BY(mu_), by token hash
  std::map<std::string, Session> sessions_;     // GUARDED_BY(mu_), by cookie hash
};

// 32 random bytes as 64 lowercase hex digits. Unavailable if the RNG fails.
Result<std::string> RandomHex32();

}  // namespace lastgood::ui
