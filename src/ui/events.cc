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
// A comment line every 15 s keeps proxies from closing an idle stream. The serve loop
// (http/server.h) writes what Next() returns once a tick, each write within its deadline.
#include <nlohmann/json.hpp>

#include "base/names.h"
#include "ui/dashboard_impl.h"

namespace lastgood::ui {

namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

constexpr auto kEventTick = std::chrono::milliseconds(1000);
constexpr int kKeepAliveTicks = 15;
constexpr char kActor[] = "dashboard:events";

std::string Event(const char* name, const std::string& data) {
  return std::string("event: ") + name + "\ndata: " + data + "\n\n";
}

// One app's event stream for one session; holds one of the dashboard's kMaxEventStreams.
class EventSource {
 public:
  EventSource(Dashboard::Impl* impl, std::string app, std::string cookie)
      : impl_(impl), app_(std::move(app)), cookie_(std::move(cookie)) {}
  ~EventSource() {
    std::lock_guard lock(impl_->mu);
    --impl_->event_streams;
  }

  // The events of this tick ("" when nothing changed), or nullopt once the session ended.
  std::optional<std::string> Next() {
    if (!impl_->sessions.Find(cookie_)) return std::nullopt;  // logged out or expired
    std::string out;
    auto status = Get("/v1/apps/" + app_);
    if (status.status == 200 && status.body != last_status_) {
      last_status_ = status.body;
      out += Event("status", status.body);
      json st = json::parse(status.body, nullptr, false);
      std::string name;
      if (st.is_object() && st.contains("deployment") && st["deployment"].is_object())
        name = st["deployment"].value("name", "");
      if (name.empty()) {
        // Nothing runs: the newest record (which may have begun and ended between two
        // looks) is the one to show, in its final form.
        auto newest = Get("/v1/apps/" + app_ + "/deployments?limit=1");
        json list = json::parse(newest.status == 200 ? newest.body : "", nullptr, false);
        if (list.is_array() && !list.empty() && list[0].is_object())
          name = list[0].value("name", "");
      }
      if (!name.empty()) running_ = name;
    }
    if (!running_.empty()) {
      auto d = Get("/v1/apps/" + app_ + "/deployments/" + running_);
      if (d.status == 200) {
        json rec = json::parse(d.body, nullptr, false);
        if (rec.is_object()) rec.erase("changeSeq");  // changes with every other app too
        std::string body = DumpJson(rec);
        if (body != last_deployment_) {
          last_deployment_ = body;
          out += Event("deployment", body);
        }
        if (rec.is_object() && rec.value("finishedAt", json(nullptr)).is_string())
          running_.clear();  // ended: its final record was sent
      } else {
        running_.clear();
      }
    }
    json sample = impl_->series.Latest(app_);
    if (sample.is_object() && sample["t"].is_number_integer() &&
        sample["t"].get<int64_t>() != last_sample_) {
      last_sample_ = sample["t"].get<int64_t>();
      out += Event("traffic", DumpJson(sample));
    }
    if (++tick_ % kKeepAliveTicks == 0) out += ": keep-alive\n\n";
    return out;
  }

 private:
  ApiResponse Get(const std::string& target) {
    return impl_->CallApi(ApiCall("GET", target, "", kActor, auth::Role::kViewer));
  }

  Dashboard::Impl* const impl_;
  const std::string app_, cookie_;
  std::string last_status_, last_deployment_, running_;
  int64_t last_sample_ = 0;
  int tick_ = 0;
};

std::string Reject(const char* status, const std::string& message) {
  std::string body =
      DumpJson(json{{"error", {{"code", "invalid_input"}, {"message", Utf8String(message)}}}});
  return std::string("HTTP/1.1 ") + status +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

http::Answer Dashboard::Impl::Events(const http::Request&, const std::string& app,
                                     const std::string& cookie) {
  http::Answer answer;
  http::Stream stream;
  stream.tick = kEventTick;
  auto rejected = [&](const char* status, const std::string& message) {
    stream.head = Reject(status, message);
    stream.next = [] { return std::optional<std::string>(); };
    answer.stream = std::move(stream);
    return answer;
  };
  if (auto s = ValidateName(app, "app"); !s.ok())
    return rejected("400 Bad Request", s.error().message);
  {
    std::lock_guard lock(mu);
    if (event_streams >= kMaxEventStreams)
      return rejected("503 Service Unavailable", "too many event streams open");
    ++event_streams;
  }
  auto source = std::make_shared<EventSource>(this, app, cookie);
  stream.head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 2000\n\n";
  stream.next = [source] { return source->Next(); };
  answer.stream = std::move(stream);
  return answer;
}

}  // namespace lastgood::ui
