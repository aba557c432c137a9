#include "ui/dashboard.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "base/names.h"
#include "ui/assets.h"
#include "ui/dashboard_impl.h"

namespace lastgood::ui {

using tcp = boost::asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr char kSamplerName[] = "dashboard:sampler";
constexpr int kAppListSeconds = 5;  // a new app shows in the charts within this

void Log(const std::string& line) { std::fprintf(stderr, "lastgood serve: %s\n", line.c_str()); }

Result<tcp::endpoint> ParseAddress(const std::string& address) {
  auto endpoint = http::ParseEndpoint(address, "ui");
  if (!endpoint.ok())
    return Error::InvalidInput("--ui must be IP:PORT or off, not '" + address + "'", "ui");
  return *endpoint;
}

}  // namespace

Dashboard::Dashboard(ApiHandler api, DashboardOptions options, Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(api), std::move(options), clock)) {}

Dashboard::~Dashboard() { Stop(); }

std::string Dashboard::Url() const { return impl_->url; }

Status Dashboard::Start() {
  auto endpoint = ParseAddress(impl_->options.address);
  if (!endpoint.ok()) return endpoint.error();
  impl_->assets = impl_->options.assets.empty() ? DefaultAssetsDir() : impl_->options.assets;
  http::Limits limits;
  limits.name = "the dashboard";
  limits.maxConnections = kMaxConnections;
  limits.idle = std::chrono::seconds(15);  // an idle keep-alive browser must not hold a thread
  limits.headerBytes = kMaxHeaderBytes;
  limits.bodyBytes = kMaxRequestBody;
  auto bound = impl_->server.ListenTcp(
      *endpoint, limits, [impl = impl_.get()](const http::Peer& peer, http::Request& req) {
        return impl->Handle(peer, req);
      });
  if (!bound.ok()) {
    return Error::Unavailable("cannot serve the dashboard on " + impl_->options.address + ": " +
                              bound.error().message);
  }
  impl_->url = "http://" + *bound;
  impl_->cookie_name = std::string(kSessionCookiePrefix) + bound->substr(bound->rfind(':') + 1);
  impl_->started = true;
  impl_->server.Start();
  if (impl_->options.sample_traffic)
    impl_->sampler_thread = std::thread([impl = impl_.get()] { impl->SampleLoop(); });
  if (std::error_code fec; !std::filesystem::exists(impl_->assets + "/index.html", fec))
    Log("dashboard: no index.html in " + impl_->assets + "; run `make build` or pass --ui-assets");
  Log("dashboard on " + impl_->url + " (assets " + impl_->assets + "; log in: lastgood dashboard)");
  return Status::Ok();
}

void Dashboard::Stop() {
  if (!impl_ || !impl_->started || impl_->stopping.exchange(true)) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->changed.notify_all();
  }
  impl_->server.Stop();
  if (impl_->sampler_thread.joinable()) impl_->sampler_thread.join();
}

ApiResponse Dashboard::Impl::CallApi(const ApiRequest& request) {
  try {
    return api(request);
  } catch (const std::exception& e) {
    Log("dashboard: answering " + request.method + " " + request.target.substr(0, 256) +
        " threw (" + e.what() + "); answered 500");
    return CrashResponse(request, e.what());
  }
}

bool Dashboard::Impl::SleepUnlessStopping(int millis) {
  std::unique_lock lock(mu);
  changed.wait_for(lock, std::chrono::milliseconds(millis), [&] { return stopping.load(); });
  return !stopping;
}

void Dashboard::Impl::SampleLoop() {
  // One sample per second per app: what the router measured over the last second. The list
  // of apps (a status per app) is read only every kAppListSeconds.
  std::vector<std::string> apps;
  for (int tick = 0; SleepUnlessStopping(1000); ++tick) {
    if (tick % kAppListSeconds == 0) {
      auto listed = CallApi(ApiCall("GET", "/v1/apps", "", kSamplerName, auth::Role::kViewer));
      json list = json::parse(listed.status == 200 ? listed.body : "", nullptr, false);
      if (list.is_array()) {
        apps.clear();
        for (const auto& a : list) {
          if (a.is_object() && a.contains("app") && a["app"].is_string()) apps.push_back(a["app"]);
        }
      }
    }
    const int64_t now = clock->NowMillis();
    for (const auto& app : apps) {
      auto traffic = CallApi(ApiCall("GET", "/v1/apps/" + app + "/traffic?window=1s", "",
                                     kSamplerName, auth::Role::kViewer));
      if (traffic.status != 200) continue;
      json t = json::parse(traffic.body, nullptr, false);
      if (t.is_object()) series.Add(app, now, t);
    }
  }
}

ApiResponse Dashboard::HandleLogins(const ApiRequest& request) {
  auto fail = [](const Error& e) { return ErrorResponse(e); };
  std::string path = request.target.substr(0, request.target.find('?'));
  if (request.method != "POST" || path != "/v1/ui/logins")
    return fail(Error::NotFound("no such API route: " + request.method + " " + request.target));
  if (request.body.size() > 4096) return fail(Error::InvalidInput("request body is too large"));
  auto body = json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
  if (!body.is_object()) return fail(Error::InvalidInput("request body must be a JSON object"));
  for (const auto& [key, value] : body.items()) {
    if (key != "role" && key != "name")
      return fail(Error::InvalidInput("unknown field '" + key + "'", key));
  }
  auth::Role role = auth::Role::kAdmin;
  if (body.contains("role")) {
    if (!body["role"].is_string())
      return fail(Error::InvalidInput("field 'role' must be a string", "role"));
    auto r = auth::ParseRole(body["role"].get<std::string>());
    if (!r.ok()) return fail(r.error());
    role = *r;
  }
  std::string name = request.actor.empty() ? "local" : request.actor;
  if (body.contains("name")) {
    if (!body["name"].is_string() || body["name"].get<std::string>().empty() ||
        body["name"].get<std::string>().size() > 64)
      return fail(
          Error::InvalidInput("field 'name' must be a string of 1 to 64 characters", "name"));
    name = body["name"].get<std::string>();
  }
  if (impl_->url.empty()) return fail(Error::Unavailable("the dashboard is not serving"));
  auto login = impl_->sessions.CreateLogin(name, role);
  if (!login.ok()) return fail(login.error());
  Log("dashboard: one-time login made for " + name + " (" + auth::RoleName(role) + ")");
  json out = {{"url", impl_->url + "/login?token=" + login->token},
              {"expiresAt", FormatTimestamp(login->expiresAt)},
              {"role", auth::RoleName(role)},
              {"name", name}};
  return {200, DumpJson(out)};
}

}  // namespace lastgood::ui
