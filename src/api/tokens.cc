// The token routes (admin only, checked by Api::Handle): list, create, revoke. A token is
// in a response once, when it is created; the store keeps only its hash.
#include <nlohmann/json.hpp>
#include <optional>

#include "api/json.h"
#include "api/route.h"
#include "api/verbs.h"
#include "auth/auth.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/names.h"
#include "store/store.h"

namespace lastgood {
namespace {

using nlohmann::json;

json TokenTime(int64_t millis) { return millis ? json(FormatTimestamp(millis)) : json(nullptr); }

struct NewToken {
  std::string name;
  auth::Role role = auth::Role::kViewer;
  Millis lifetime{0};  // 0: never expires
};

// How long a token lives: a duration ("12h", "30m") or whole days ("90d"), 1 s to 10 years.
Result<Millis> ParseLifetime(const std::string& text) {
  constexpr Millis kMax{3650 * int64_t{86'400'000}};
  auto d = ParseDaysOrDuration(text);
  if (!d.ok() || *d < Millis(1000) || *d > kMax) {
    return Error::InvalidInput("'" + text +
                                   "' is not a token lifetime; give days like 90d, or a "
                                   "duration like 12h or 30m (1s to 3650d)",
                               "expiresIn");
  }
  return *d;
}

// {name, role, expiresIn?}: strings, nothing else.
Result<NewToken> NewTokenBody(const std::string& body) {
  if (body.size() > 4096) return Error::InvalidInput("request body is too large");
  json j = json::parse(body.empty() ? "{}" : body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error::InvalidInput("request body must be a JSON object");
  for (auto& [key, value] : j.items()) {
    if (key != "name" && key != "role" && key != "expiresIn")
      return Error::InvalidInput("unknown field '" + key + "'", key);
    if (!value.is_string()) return Error::InvalidInput("field '" + key + "' must be a string", key);
  }
  if (!j.contains("name")) return Error::InvalidInput("field 'name' is required", "name");
  if (!j.contains("role")) return Error::InvalidInput("field 'role' is required", "role");
  std::string name = j["name"];
  LG_RETURN_IF_ERROR(ValidateName(name, "token name", "name"));
  auto role = auth::ParseRole(j["role"]);
  if (!role.ok()) return role.error();
  NewToken out{name, *role, Millis(0)};
  if (j.contains("expiresIn")) {
    auto lifetime = ParseLifetime(j["expiresIn"]);
    if (!lifetime.ok()) return lifetime.error();
    out.lifetime = *lifetime;
  }
  return out;
}

}  // namespace

ApiResponse ListTokens(const RouteCall& call) {
  auto tokens = call.store.ListTokens();
  if (!tokens.ok()) return ErrorResponse(tokens.error());
  json out = json::array();
  int64_t now = Clock::Real()->NowMillis();
  for (const auto& t : *tokens) {
    bool expired = t.expiresAt != 0 && now >= t.expiresAt;
    out.push_back({{"name", t.name},
                   {"role", t.role},
                   {"state", t.revokedAt ? "revoked"
                             : expired   ? "expired"
                                         : "valid"},
                   {"createdAt", TokenTime(t.createdAt)},
                   {"lastUsedAt", TokenTime(t.lastUsedAt)},
                   {"revokedAt", TokenTime(t.revokedAt)},
                   {"expiresAt", TokenTime(t.expiresAt)}});
  }
  return {200, DumpJson(out)};
}

ApiResponse CreateToken(const RouteCall& call) {
  auto body = NewTokenBody(call.request.body);
  if (!body.ok()) return ErrorResponse(body.error());
  auto token = auth::NewToken();
  if (!token.ok()) return ErrorResponse(token.error());
  TokenRecord record;
  record.name = body->name;
  record.role = auth::RoleName(body->role);
  record.hash = auth::TokenHash(*token);
  record.createdAt = Clock::Real()->NowMillis();
  if (body->lifetime.count() > 0) record.expiresAt = record.createdAt + body->lifetime.count();
  if (auto s = call.store.CreateToken(record); !s.ok()) return ErrorResponse(s.error());
  return {200, DumpJson(json{{"name", record.name},
                             {"role", record.role},
                             {"token", *token},
                             {"createdAt", TokenTime(record.createdAt)},
                             {"expiresAt", TokenTime(record.expiresAt)}})};
}

ApiResponse RevokeToken(const RouteCall& call) {
  const std::string& name = call.path.at("token");
  int64_t now = Clock::Real()->NowMillis();
  if (auto s = call.store.RevokeToken(name, now); !s.ok()) return ErrorResponse(s.error());
  return {200, DumpJson(json{{"name", name}, {"revokedAt", TokenTime(now)}})};
}

}  // namespace lastgood
