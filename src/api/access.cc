// Api::Handle: the gate in front of the routes. It authenticates a TCP caller's bearer
// token, finds the route (api/routes.cc), checks the caller's role against the route's,
// validates the names in the path, calls the route's handler, and appends every
// mutation and every refused attempt to the audit. A token never reaches the audit, a log
// or a response other than the one that created it.
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/audit_folder.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "base/clock.h"
#include "base/names.h"

namespace lastgood {
namespace {

using nlohmann::json;

// The 401 body says nothing about why: a prober learns nothing from it.
constexpr char kUnauthorizedBody[] = R"({"error":"unauthorized"})";
// A token's last use is written at most this often, not on every request.
constexpr int64_t kTouchIntervalMillis = 60'000;
// Audit messages are outcomes, not documents.
constexpr size_t kMaxAuditMessage = 300;
// A request's path is kept to this many bytes: a refused request is anyone's (issue 11 A4).
constexpr size_t kMaxAuditPath = 256;

// The names a path carries must be plain names before any handler sees them.
std::optional<Error> InvalidPathName(const std::map<std::string, std::string>& params) {
  if (auto it = params.find("app"); it != params.end()) {
    if (auto s = ValidateName(it->second, "app name", "app"); !s.ok()) return s.error();
  }
  if (auto it = params.find("token"); it != params.end()) {
    if (auto s = ValidateName(it->second, "token name", "name"); !s.ok()) return s.error();
  }
  if (auto it = params.find("secret"); it != params.end()) {
    if (auto s = ValidateName(it->second, "secret name", "name"); !s.ok()) return s.error();
  }
  return std::nullopt;
}

std::string ClipPath(std::string path) {
  if (path.size() > kMaxAuditPath) path = path.substr(0, kMaxAuditPath) + "…";
  return path;
}

std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

bool IsRead(const std::string& method) { return method == "GET" || method == "HEAD"; }

// "web" for /v1/apps/web/…, else "".
std::string AppOfPath(const std::string& path) {
  constexpr std::string_view kApps = "/v1/apps/";
  if (path.compare(0, kApps.size(), kApps) != 0) return "";
  std::string rest = path.substr(kApps.size());
  return rest.substr(0, rest.find('/'));
}

std::string Clip(std::string s) {
  if (s.size() > kMaxAuditMessage) s = s.substr(0, kMaxAuditMessage) + "…";
  return s;
}

// The outcome of a routed request in words, from its response: the error's message, or
// what was started. Token routes name the token, never its secret.
std::string AuditOutcome(const std::string& path, const ApiResponse& res) {
  if (res.status < 400 && res.contentType != "application/json")
    return "sent " + std::to_string(res.body.size()) + " bytes (" + res.contentType + ")";
  json j = json::parse(res.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  if (res.status >= 400) {
    if (j.contains("error") && j["error"].is_object())
      return j["error"].value("message", std::string());
    return "";
  }
  if (path.rfind("/v1/tokens", 0) == 0) {
    std::string name = j.value("name", std::string());
    if (j.contains("token")) return "created token " + name + " with role " + j.value("role", "");
    return "revoked token " + name;
  }
  std::string out;
  if (j.contains("deployment") && j["deployment"].is_string()) {
    out = "deployment " + j["deployment"].get<std::string>();
    if (j.contains("version") && j["version"].is_number())
      out += " of version " + std::to_string(j["version"].get<int>());
  }
  if (j.contains("message") && j["message"].is_string() && !j["message"].get<std::string>().empty())
    out += (out.empty() ? "" : ": ") + j["message"].get<std::string>();
  if (j.value("whatIf", false)) out = "what-if" + (out.empty() ? "" : ": " + out);
  return out;
}

}  // namespace

Api::Api(Engine* engine, Store* store, ApiOptions options)
    : engine_(engine),
      store_(store),
      options_(std::move(options)),
      routes_(DomainRoutes()),
      folder_(std::make_unique<AuditFolder>(store)) {}

Api::~Api() = default;

void Api::AddRoute(ApiRoute route) { routes_.push_back(std::move(route)); }

AuditEntry Api::AuditEntryFor(const ApiRequest& req, int64_t now) const {
  const std::string path = PathOf(req.target);
  return AuditEntry{0,
                    now,
                    "",
                    req.principal.from,
                    req.method.substr(0, 16) + " " + ClipPath(path),
                    AppOfPath(path).substr(0, 64),
                    0,
                    ""};
}

void Api::Audit(AuditEntry entry, int status, const std::string& message) {
  entry.status = status;
  entry.message = Clip(message);
  // Refusals are anyone's to send: they are folded (api/audit_folder.h).
  Status s = Status::Ok();
  if (status == 401 || status == 403) {
    s = folder_->Refused(entry);
  } else if (auto id = store_->AppendAudit(entry); !id.ok()) {
    s = id.error();
  }
  if (!s.ok()) {
    // The action's outcome stands; losing its audit line must at least be visible.
    std::fprintf(stderr, "lastgood serve: cannot append to the audit (%s): %s\n",
                 entry.action.c_str(), s.error().message.c_str());
  }
}

std::optional<ApiResponse> Api::Authenticate(const ApiRequest& in, ApiRequest* req,
                                             AuditEntry* entry, int64_t now) {
  if (!in.needsToken) return std::nullopt;
  std::string why;
  std::optional<auth::Principal> who;
  if (in.bearer.empty()) {
    why = "no bearer token";
  } else if (!auth::LooksLikeToken(in.bearer)) {
    why = "malformed bearer token";
  } else {
    // Looked up by its SHA-256, so the lookup's timing says nothing about the token; the
    // found hash is compared again in constant time all the same.
    std::string hash = auth::TokenHash(in.bearer);
    auto found = store_->FindToken(hash);
    if (!found.ok()) return ErrorResponse(found.error());
    auto role = *found ? auth::ParseRole((*found)->role) : Result<auth::Role>(Error::Internal(""));
    if (!*found || !auth::ConstantTimeEquals((*found)->hash, hash) || !role.ok()) {
      why = "unknown bearer token";
    } else if ((*found)->revokedAt != 0) {
      entry->actor = "token:" + (*found)->name;
      why = "revoked token";
    } else if ((*found)->expiresAt != 0 && now >= (*found)->expiresAt) {
      entry->actor = "token:" + (*found)->name;
      why = "expired token";
    } else {
      who = auth::Principal{"token:" + (*found)->name, *role, in.principal.from};
      if (now - (*found)->lastUsedAt >= kTouchIntervalMillis)
        (void)store_->TouchToken((*found)->name, now);
    }
  }
  if (!who) {
    if (entry->actor.empty()) entry->actor = "anonymous";
    Audit(*entry, 401, "unauthorized: " + why);
    return ApiResponse{401, kUnauthorizedBody};
  }
  req->principal = *who;
  return std::nullopt;
}

std::optional<ApiResponse> Api::Forbidden(const ApiRequest& req, auth::Role needed,
                                          const AuditEntry& entry) {
  if (req.principal.role >= needed) return std::nullopt;
  std::string message = std::string("role ") + auth::RoleName(req.principal.role) + " may not " +
                        req.method + " " + PathOf(req.target) + "; it needs role " +
                        auth::RoleName(needed);
  Audit(entry, 403, "forbidden: " + message);
  return ApiResponse{403, DumpJson(json{{"error", {{"code", "forbidden"}, {"message", message}}}})};
}

ApiResponse Api::Handle(const ApiRequest& in) {
  ApiRequest req = in;
  req.bearer.clear();
  const std::string path = PathOf(req.target);
  const int64_t now = Clock::Real()->NowMillis();
  AuditEntry entry = AuditEntryFor(req, now);
  auto audit = [&](int status, const std::string& message) { Audit(entry, status, message); };
  if (auto refused = Authenticate(in, &req, &entry, now)) return *refused;
  req.actor = req.principal.name;
  entry.actor = req.principal.name;

  ApiResponse res;
  std::map<std::string, std::string> params, query;
  const ApiRoute* route = MatchRoute(routes_, req.method, req.target, &params, &query);
  if (route == nullptr) {
    res = ErrorResponse(Error::NotFound("no such API route: " + req.method + " " + path));
  } else if (auto forbidden = Forbidden(req, route->role, entry)) {
    return *forbidden;
  } else if (auto bad = InvalidPathName(params); bad) {
    res = ErrorResponse(*bad);
  } else {
    res = route->handler(
        RouteCall{req, *engine_, *store_, options_, *folder_, std::move(params), std::move(query)});
  }
  if (!IsRead(req.method) || res.status == 400 || res.status == 413) {
    if (entry.app.empty() && res.status < 400) {
      // POST /v1/apply names its app in the outcome.
      json j = json::parse(res.body, nullptr, false);
      if (j.is_object() && j.contains("app") && j["app"].is_string()) entry.app = j["app"];
    }
    audit(res.status, AuditOutcome(path, res));
  }
  return res;
}

}  // namespace lastgood
