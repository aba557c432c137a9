// The token routes (admin only, checked by Api::Handle): list, create, revoke. A token is
// in a response once, when it is created; the store keeps only its hash.
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/json.h"
#include "base/clock.h"
#include "base/names.h"

namespace lastgood {
namespace {

using nlohmann::json;

json Timestamp(int64_t millis) { return millis ? json(FormatTimestamp(millis)) : json(nullptr); }

// {name, role}: both strings, nothing else.
Result<std::pair<std::string, auth::Role>> NewTokenBody(const std::string& body) {
  if (body.size() > 4096) return Error::InvalidInput("request body is too large");
  json j = json::parse(body.empty() ? "{}" : body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error::InvalidInput("request body must be a JSON object");
  for (auto& [key, value] : j.items()) {
    if (key != "name" && key != "role")
      return Error::InvalidInput("unknown field '" + key + "'", key);
    if (!value.is_string()) return Error::InvalidInput("field '" + key + "' must be a string", key);
  }
  if (!j.contains("name")) return Error::InvalidInput("field 'name' is required", "name");
  if (!j.contains("role")) return Error::InvalidInput("field 'role' is required", "role");
  std::string name = j["name"];
  LG_RETURN_IF_ERROR(ValidateName(name, "token name", "name"));
  auto role = auth::ParseRole(j["role"]);
  if (!role.ok()) return role.error();
  return std::make_pair(name, *role);
}

}  // namespace

ApiResponse Api::Tokens(const ApiRequest& req) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method == "GET" && path == "/v1/tokens") {
    auto tokens = store_->ListTokens();
    if (!tokens.ok()) return ErrorResponse(tokens.error());
    json out = json::array();
    for (const auto& t : *tokens) {
      out.push_back({{"name", t.name},
                     {"role", t.role},
                     {"state", t.revokedAt ? "revoked" : "valid"},
                     {"createdAt", Timestamp(t.createdAt)},
                     {"lastUsedAt", Timestamp(t.lastUsedAt)},
                     {"revokedAt", Timestamp(t.revokedAt)}});
    }
    return {200, out.dump()};
  }
  if (req.method == "POST" && path == "/v1/tokens") {
    auto body = NewTokenBody(req.body);
    if (!body.ok()) return ErrorResponse(body.error());
    auto token = auth::NewToken();
    if (!token.ok()) return ErrorResponse(token.error());
    TokenRecord record{body->first,
                       auth::RoleName(body->second),
                       auth::TokenHash(*token),
                       Clock::Real()->NowMillis(),
                       0,
                       0};
    if (auto s = store_->CreateToken(record); !s.ok()) return ErrorResponse(s.error());
    return {200, json{{"name", record.name},
                      {"role", record.role},
                      {"token", *token},
                      {"createdAt", Timestamp(record.createdAt)}}
                     .dump()};
  }
  constexpr std::string_view kOne = "/v1/tokens/";
  if (req.method == "DELETE" && path.size() > kOne.size() && path.rfind(kOne, 0) == 0) {
    std::string name = path.substr(kOne.size());
    if (auto s = ValidateName(name, "token name"); !s.ok()) return ErrorResponse(s.error());
    int64_t now = Clock::Real()->NowMillis();
    if (auto s = store_->RevokeToken(name, now); !s.ok()) return ErrorResponse(s.error());
    return {200, json{{"name", name}, {"revokedAt", Timestamp(now)}}.dump()};
  }
  return ErrorResponse(Error::NotFound("no such API route: " + req.method + " " + path));
}

}  // namespace lastgood
