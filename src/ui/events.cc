// Server-sent events for one app (GET /v1/events?app=NAME): what the page would otherwise
// poll for. Once a second it looks at the app's status, at the running deployment's record
// and at the newest traffic sample, and sends each one that changed:
//
//   event: status       the app's status (GET /v1/apps/{app})
//   event: deployment   the running deployment's record with its operations as it changes
//                       and once more when it has ended; when nothing runs, the newest
//                       record
//   event: traffic      the newest per-second sample ({"t", "versions"})
//
// A comment line every 15 s keeps proxies from closing an idle stream.
#include <nlohmann/json.hpp>

#include "base/names.h"
#include "ui/dashboard_impl.h"

namespace lastgood::ui {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr int kEventTickMillis = 1000;
constexpr int kKeepAliveTicks = 15;

bool Send(tcp::socket& socket, const std::string& text) {
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(text), ec);
  return !ec;
}

std::string Event(const char* name, const std::string& data) {
  return std::string("event: ") + name + "\ndata: " + data + "\n\n";
}

}  // namespace

void Dashboard::Impl::StreamEvents(tcp::socket& socket, const std::string& app,
                                   const std::string& cookie) {
  auto reject = [&](const char* status, const std::string& message) {
    json j = {{"error", {{"code", "invalid_input"}, {"message", message}}}};
    std::string body = DumpJson(j);
    Send(socket, std::string("HTTP/1.1 ") + status +
                     "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     "Content-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  if (auto s = ValidateName(app, "app"); !s.ok())
    return reject("400 Bad Request", s.error().message);
  {
    std::lock_guard lock(mu);
    if (event_streams >= kMaxEventStreams)
      return reject("503 Service Unavailable", "too many event streams open");
    ++event_streams;
  }
  const std::string actor = "dashboard:events";
  std::string last_status, last_deployment, running_name;
  int64_t last_sample = 0;
  bool ok = Send(socket,
                 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                 "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 2000\n\n");
  for (int tick = 0; ok && !stopping; ++tick) {
    if (!sessions.Find(cookie)) break;  // logged out or expired: the stream ends with it
    auto status = CallApi(ApiCall("GET", "/v1/apps/" + app, "", actor, auth::Role::kViewer));
    if (status.status == 200 && status.body != last_status) {
      last_status = status.body;
      ok = ok && Send(socket, Event("status", status.body));
      json st = json::parse(status.body, nullptr, false);
      std::string name;
      if (st.is_object() && st.contains("deployment") && st["deployment"].is_object())
        name = st["deployment"].value("name", "");
      if (name.empty()) {
        // Nothing runs: the newest record (which may have begun and ended between two
        // looks) is the one to show, in its final form.
        auto newest = CallApi(ApiCall("GET", "/v1/apps/" + app + "/deployments?limit=1", "", actor,
                                      auth::Role::kViewer));
        json list = json::parse(newest.status == 200 ? newest.body : "", nullptr, false);
        if (list.is_array() && !list.empty() && list[0].is_object())
          name = list[0].value("name", "");
      }
      if (!name.empty()) running_name = name;
    }
    if (!running_name.empty()) {
      auto d = CallApi(ApiCall("GET", "/v1/apps/" + app + "/deployments/" + running_name, "", actor,
                               auth::Role::kViewer));
      if (d.status == 200) {
        json rec = json::parse(d.body, nullptr, false);
        if (rec.is_object()) rec.erase("changeSeq");  // changes with every other app too
        std::string body = DumpJson(rec);
        if (body != last_deployment) {
          last_deployment = body;
          ok = ok && Send(socket, Event("deployment", body));
        }
        if (rec.is_object() && rec.value("finishedAt", json(nullptr)).is_string())
          running_name.clear();  // ended: its final record was sent
      } else {
        running_name.clear();
      }
    }
    json sample = series.Latest(app);
    if (sample.is_object() && sample["t"].get<int64_t>() != last_sample) {
      last_sample = sample["t"].get<int64_t>();
      ok = ok && Send(socket, Event("traffic", DumpJson(sample)));
    }
    if (ok && tick % kKeepAliveTicks == kKeepAliveTicks - 1) ok = Send(socket, ": keep-alive\n\n");
    if (!SleepUnlessStopping(kEventTickMillis)) break;
  }
  std::lock_guard lock(mu);
  --event_streams;
}

}  // namespace lastgood::ui
