// Authentication and roles for the controller's API: who a caller is (Principal), the
// roles, and bearer tokens (generation, hashing, constant-time comparison). Which role a
// route needs is a column of the API's route table (api/routes.cc).
//
// A token is "lgt_" followed by 64 lowercase hex digits (32 bytes from RAND_bytes). The
// controller keeps only its SHA-256 (TokenHash) and shows the token once, when it is made.
// The unix socket's peer is the local admin; a TCP caller is whoever its token names.
//
// Thread-safety: every function here is a pure function or uses OpenSSL's thread-safe RNG;
// call them from any thread.
#pragma once

#include <string>

#include "base/result.h"

namespace lastgood::auth {

// Ordered: each role may do everything the roles before it may.
enum class Role { kViewer, kDeployer, kAdmin };

// "viewer", "deployer", "admin".
const char* RoleName(Role role);
// The inverse of RoleName; anything else is InvalidInput naming the accepted values.
Result<Role> ParseRole(const std::string& text);

// The caller of one API request.
struct Principal {
  std::string name;  // "token:ci-bot" or "local:root"
  Role role = Role::kViewer;
  std::string from;  // "unix" or "127.0.0.1:5555"
};

// The local admin connected over the unix socket: "local:<user name>" (or the uid when
// it has no name).
Principal LocalAdmin(unsigned uid);

inline constexpr char kTokenPrefix[] = "lgt_";
inline constexpr int kTokenBytes = 32;

// A fresh random token. Unavailable if the RNG fails (it never returns a weak token).
Result<std::string> NewToken();

// Lowercase hex SHA-256 of the token: what the store keeps.
std::string TokenHash(const std::string& token);

// Whether two strings are equal, in time independent of where they differ
// (CRYPTO_memcmp); strings of different length are unequal.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

// Whether text has the shape of a token (prefix and 64 hex digits), so a typo in a
// header is refused before any store lookup.
bool LooksLikeToken(const std::string& text);

}  // namespace lastgood::auth
