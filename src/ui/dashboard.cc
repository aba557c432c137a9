#include "ui/dashboard.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "ui/assets.h"
#include "ui/dashboard_impl.h"

namespace lastgood::ui {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr char kSamplerName[] = "dashboard:sampler";
constexpr int kAppListSeconds = 5;  // a new app shows in the charts within this

void Log(const std::string& line) { std::fprintf(stderr, "lastgood serve: %s\n", line.c_str()); }

Result<tcp::endpoint> ParseAddress(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Error::InvalidInput("--ui must be HOST:PORT or off, not '" + address + "'", "ui");
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (ec || port.empty() || *end != '\0' || p < 0 || p > 65535)
    return Error::InvalidInput("--ui must be IP:PORT or off, not '" + address + "'", "ui");
  return tcp::endpoint(ip, static_cast<unsigned short>(p));
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
  auto acc = std::make_unique<tcp::acceptor>(impl_->io);
  boost::system::error_code ec;
  acc->open(endpoint->protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(*endpoint, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error::Unavailable("cannot serve the dashboard on " + impl_->options.address + ": " +
                              ec.message());
  auto bound = acc->local_endpoint(ec);
  std::string host = bound.address().to_string();
  if (bound.address().is_v6()) host = "[" + host + "]";
  impl_->url = "http://" + host + ":" + std::to_string(bound.port());
  impl_->cookie_name = "lg_session_" + std::to_string(bound.port());
  impl_->acceptor = std::move(acc);
  impl_->accept_thread = std::thread([impl = impl_.get()] { impl->AcceptLoop(); });
  if (impl_->options.sample_traffic)
    impl_->sampler_thread = std::thread([impl = impl_.get()] { impl->SampleLoop(); });
  if (std::error_code fec; !std::filesystem::exists(impl_->assets + "/index.html", fec))
    Log("dashboard: no index.html in " + impl_->assets + "; run `make build` or pass --ui-assets");
  Log("dashboard on " + impl_->url + " (assets " + impl_->assets + "; log in: lastgood dashboard)");
  return Status::Ok();
}

void Dashboard::Stop() {
  if (!impl_ || !impl_->acceptor || impl_->stopping.exchange(true)) return;
  boost::system::error_code ec;
  ::shutdown(impl_->acceptor->native_handle(), SHUT_RDWR);
  impl_->acceptor->close(ec);
  {
    std::unique_lock lock(impl_->mu);
    for (auto& [id, socket] : impl_->open) ::shutdown(socket->native_handle(), SHUT_RDWR);
    impl_->changed.notify_all();
    impl_->changed.wait_for(lock, std::chrono::seconds(35), [&] { return impl_->threads == 0; });
  }
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
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

void Dashboard::Impl::AcceptLoop() {
  while (!stopping) {
    tcp::socket socket(io);
    boost::system::error_code ec;
    acceptor->accept(socket, ec);
    if (stopping) break;
    if (ec) continue;
    auto owned = std::make_shared<tcp::socket>(std::move(socket));
    std::unique_lock lock(mu);
    if (open.size() >= static_cast<size_t>(kMaxConnections)) continue;  // closes it
    const uint64_t id = ++next_id;
    open[id] = owned.get();
    ++threads;
    lock.unlock();
    std::thread([this, id, owned]() mutable {
      try {
        Serve(*owned);
      } catch (const std::exception& e) {
        Log(std::string("dashboard: a connection ended by an exception (") + e.what() + ")");
      }
      {
        std::lock_guard guard(mu);
        open.erase(id);
      }
      boost::system::error_code ignored;
      owned->close(ignored);
      owned.reset();
      std::lock_guard guard(mu);
      --threads;
      changed.notify_all();
    }).detach();
  }
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
