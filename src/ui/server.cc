// The dashboard's HTTP: sessions, CSRF, roles, static files and the /v1 API (issue 6).
#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>

#include "base/names.h"
#include "ui/assets.h"
#include "ui/dashboard_impl.h"

namespace lastgood::ui {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

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

Response Make(const Request& req, http::status status, std::string body, const char* type) {
  Response res{status, req.version()};
  res.set(http::field::content_type, type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  return res;
}

Response Json(const Request& req, int status, std::string body) {
  return Make(req, static_cast<http::status>(status), std::move(body), "application/json");
}

Response JsonError(const Request& req, http::status status, const char* code,
                   const std::string& message) {
  json j = {{"error", {{"code", code}, {"message", message}}}};
  return Make(req, status, DumpJson(j), "application/json");
}

Response Page(const Request& req, http::status status, const std::string& why) {
  Response res = Make(req, status, LoginNeededPage(why), "text/html; charset=utf-8");
  res.set("Content-Security-Policy", kContentSecurityPolicy);
  return res;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

Response Series(const Request& req, const TrafficSeries& series, int64_t now,
                const std::string& app, std::map<std::string, std::string> query) {
  if (auto s = ValidateName(app, "app"); !s.ok())
    return JsonError(req, http::status::bad_request, "invalid_input", s.error().message);
  int seconds = kSeriesSeconds;
  if (query.count("seconds"))
    seconds = std::clamp(std::atoi(query["seconds"].c_str()), 1, kSeriesSeconds);
  return Json(req, 200, DumpJson(series.Since(app, seconds, now)));
}

}  // namespace

void Dashboard::Impl::Serve(tcp::socket& socket) {
  // An idle keep-alive client must not hold a thread (and a shutdown) for long.
  struct timeval tv {
    15, 0
  };
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxRequestBody);
    http::read(socket, buffer, parser, ec);
    if (ec) break;
    const Request& req = parser.get();
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    const std::string method(req.method_string());
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    Response res;

    const std::string cookie = CookieValue(std::string(req[http::field::cookie]), cookie_name);
    auto session = cookie.empty() ? std::nullopt : sessions.Find(cookie);
    if (path == "/login" && get) {
      auto opened = sessions.Redeem(ParseQuery(target)["token"]);
      if (!opened.ok()) {
        res = Page(req, http::status::unauthorized,
                   "This login link is unknown, already used or expired.");
      } else {
        res = Make(req, http::status::see_other, "", "text/plain");
        res.set(http::field::location, "/");
        res.set(http::field::set_cookie, cookie_name + "=" + opened->cookie +
                                             "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                             std::to_string(kSessionTtlMillis / 1000));
      }
    } else if (!session) {
      res = StartsWith(path, "/v1/")
                ? JsonError(req, http::status::unauthorized, "unauthenticated",
                            "log in first: run `lastgood dashboard` and open its link")
                : Page(req, http::status::unauthorized,
                       "You are not logged in, or your session has ended.");
    } else if (!get && !Sessions::CsrfMatches(*session, std::string(req["X-CSRF-Token"]))) {
      res = JsonError(req, http::status::forbidden, "forbidden",
                      "missing or wrong X-CSRF-Token header (reload the page)");
    } else if (path == "/v1/session" && get) {
      res = Json(req, 200,
                 DumpJson(json{{"name", session->name},
                               {"role", auth::RoleName(session->role)},
                               {"csrfToken", session->csrf},
                               {"canDeploy", session->role >= auth::Role::kDeployer},
                               {"expiresAt", FormatTimestamp(session->expiresAt)}}));
    } else if (path == "/v1/logout" && req.method() == http::verb::post) {
      sessions.End(cookie);
      res = Json(req, 200, R"({"ok":true})");
      res.set(http::field::set_cookie,
              cookie_name + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    } else if (path == "/v1/events" && get) {
      StreamEvents(socket, ParseQuery(target)["app"], cookie);
      break;  // the stream owned the connection to its end
    } else if (StartsWith(path, "/v1/apps/") && path.ends_with("/traffic/series") && get) {
      res = Series(req, series, clock->NowMillis(),
                   path.substr(9, path.size() - 9 - std::strlen("/traffic/series")),
                   ParseQuery(target));
    } else if (StartsWith(path, "/v1/")) {
      // The API checks each route's role (and audits a refusal); a viewer's session, which
      // may only read, is refused here as well, before the API.
      if (!get && session->role == auth::Role::kViewer) {
        res = JsonError(req, http::status::forbidden, "forbidden",
                        "your role (viewer) may only read; ask an admin for a deployer link");
      } else {
        ApiResponse out =
            CallApi(ApiCall(method, target, req.body(), session->name, session->role));
        res = Make(req, static_cast<http::status>(out.status), std::move(out.body),
                   out.contentType.c_str());
      }
    } else if (get) {
      auto asset = LoadAsset(assets, path);
      if (!asset.ok() && (path == "/" || path == "/index.html")) {
        res = Page(req, http::status::not_found,
                   "The dashboard's files are not built: run `make build` (it writes build/ui "
                   "beside build/lastgood), or start the controller with --ui-assets DIR.");
      } else if (!asset.ok()) {
        res = Make(req, http::status::not_found, "not found\n", "text/plain; charset=utf-8");
      } else {
        res = Make(req, http::status::ok, std::move(asset->body), asset->contentType.c_str());
        if (asset->immutable) res.set(http::field::cache_control, "max-age=31536000, immutable");
        if (StartsWith(asset->contentType, "text/html"))
          res.set("Content-Security-Policy", kContentSecurityPolicy);
      }
    } else {
      res = JsonError(req, http::status::method_not_allowed, "invalid_input",
                      "only GET serves files");
    }
    if (req.method() == http::verb::head) res.body().clear();
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !res.keep_alive() || stopping) break;
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    Response res{http::status::payload_too_large, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = R"({"error":{"code":"invalid_input","message":"request too large"}})";
    res.prepare_payload();
    http::write(socket, res, ec);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace lastgood::ui
