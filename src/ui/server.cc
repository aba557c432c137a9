// The dashboard's requests: sessions, CSRF, roles, static files and the /v1 API (issue 6).
// Served by the one serve loop (http/server.h), with its deadlines and limits.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>

#include "base/names.h"
#include "ui/assets.h"
#include "ui/dashboard_impl.h"

namespace lastgood::ui {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using nlohmann::json;

namespace {

constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

std::map<std::string, std::string> ParseQuery(const std::string& target) {
  std::map<std::string, std::string> q;
  auto at = target.find('?');
  if (at == std::string::npos) return q;
  std::string s = target.substr(at + 1);
  size_t i = 0;
  while (i <= s.size()) {
    size_t amp = s.find('&', i);
    if (amp == std::string::npos) amp = s.size();
    std::string kv = s.substr(i, amp - i);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) q[kv.substr(0, eq)] = kv.substr(eq + 1);
    i = amp + 1;
  }
  return q;
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t i = 0;
  while (i < header.size()) {
    size_t semi = header.find(';', i);
    if (semi == std::string::npos) semi = header.size();
    std::string part = header.substr(i, semi - i);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 &&
        part[name.size()] == '=')
      return part.substr(name.size() + 1);
    i = semi + 1;
  }
  return "";
}

Response Make(const Request& req, bhttp::status status, std::string body, const char* type) {
  Response res{status, req.version()};
  res.set(bhttp::field::content_type, type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  return res;
}

Response Json(const Request& req, int status, std::string body) {
  return Make(req, static_cast<bhttp::status>(status), std::move(body), "application/json");
}

Response JsonError(const Request& req, bhttp::status status, const char* code,
                   const std::string& message) {
  json j = {{"error", {{"code", code}, {"message", message}}}};
  return Make(req, status, DumpJson(j), "application/json");
}

Response Page(const Request& req, bhttp::status status, const std::string& why) {
  Response res = Make(req, status, LoginNeededPage(why), "text/html; charset=utf-8");
  res.set("Content-Security-Policy", kContentSecurityPolicy);
  return res;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

Response Series(const Request& req, const TrafficSeries& series, int64_t now,
                const std::string& app, std::map<std::string, std::string> query) {
  if (auto s = ValidateName(app, "app"); !s.ok())
    return JsonError(req, bhttp::status::bad_request, "invalid_input", s.error().message);
  int seconds = kSeriesSeconds;
  if (query.count("seconds"))
    seconds = std::clamp(std::atoi(query["seconds"].c_str()), 1, kSeriesSeconds);
  return Json(req, 200, DumpJson(series.Since(app, seconds, now)));
}

}  // namespace

http::Answer Dashboard::Impl::Handle(const http::Peer&, http::Request& req) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  const std::string method(req.method_string());
  const bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
  Response res;

  const std::string cookie = CookieValue(std::string(req[bhttp::field::cookie]), cookie_name);
  auto session = cookie.empty() ? std::nullopt : sessions.Find(cookie);
  if (path == "/login" && get) {
    auto opened = sessions.Redeem(ParseQuery(target)["token"]);
    if (!opened.ok()) {
      res = Page(req, bhttp::status::unauthorized,
                 "This login link is unknown, already used or expired.");
    } else {
      res = Make(req, bhttp::status::see_other, "", "text/plain");
      res.set(bhttp::field::location, "/");
      res.set(bhttp::field::set_cookie, cookie_name + "=" + opened->cookie +
                                            "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                            std::to_string(kSessionTtlMillis / 1000));
    }
  } else if (!session) {
    res = StartsWith(path, "/v1/")
              ? JsonError(req, bhttp::status::unauthorized, "unauthenticated",
                          "log in first: run `lastgood dashboard` and open its link")
              : Page(req, bhttp::status::unauthorized,
                     "You are not logged in, or your session has ended.");
  } else if (!get && !Sessions::CsrfMatches(*session, std::string(req["X-CSRF-Token"]))) {
    res = JsonError(req, bhttp::status::forbidden, "forbidden",
                    "missing or wrong X-CSRF-Token header (reload the page)");
  } else if (path == "/v1/session" && get) {
    res = Json(req, 200,
               DumpJson(json{{"name", session->name},
                             {"role", auth::RoleName(session->role)},
                             {"csrfToken", session->csrf},
                             {"canDeploy", session->role >= auth::Role::kDeployer},
                             {"expiresAt", FormatTimestamp(session->expiresAt)}}));
  } else if (path == "/v1/logout" && req.method() == bhttp::verb::post) {
    sessions.End(cookie);
    res = Json(req, 200, R"({"ok":true})");
    res.set(bhttp::field::set_cookie,
            cookie_name + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  } else if (path == "/v1/events" && get) {
    return Events(req, ParseQuery(target)["app"], cookie);
  } else if (StartsWith(path, "/v1/apps/") && path.ends_with("/traffic/series") && get) {
    res = Series(req, series, clock->NowMillis(),
                 path.substr(9, path.size() - 9 - std::strlen("/traffic/series")),
                 ParseQuery(target));
  } else if (StartsWith(path, "/v1/")) {
    // The API checks each route's role (and audits a refusal); a viewer's session, which
    // may only read, is refused here as well, before the API.
    if (!get && session->role == auth::Role::kViewer) {
      res = JsonError(req, bhttp::status::forbidden, "forbidden",
                      "your role (viewer) may only read; ask an admin for a deployer link");
    } else {
      ApiResponse out = CallApi(ApiCall(method, target, req.body(), session->name, session->role));
      res = Make(req, static_cast<bhttp::status>(out.status), std::move(out.body),
                 out.contentType.c_str());
    }
  } else if (get) {
    auto asset = LoadAsset(assets, path);
    if (!asset.ok() && (path == "/" || path == "/index.html")) {
      res = Page(req, bhttp::status::not_found,
                 "The dashboard's files are not built: run `make build` (it writes build/ui "
                 "beside build/lastgood), or start the controller with --ui-assets DIR.");
    } else if (!asset.ok()) {
      res = Make(req, bhttp::status::not_found, "not found\n", "text/plain; charset=utf-8");
    } else {
      res = Make(req, bhttp::status::ok, std::move(asset->body), asset->contentType.c_str());
      if (asset->immutable) res.set(bhttp::field::cache_control, "max-age=31536000, immutable");
      if (StartsWith(asset->contentType, "text/html"))
        res.set("Content-Security-Policy", kContentSecurityPolicy);
    }
  } else {
    res =
        JsonError(req, bhttp::status::method_not_allowed, "invalid_input", "only GET serves files");
  }
  if (req.method() == bhttp::verb::head) res.body().clear();
  return res;
}

}  // namespace lastgood::ui
