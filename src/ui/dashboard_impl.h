// Dashboard::Impl, shared by the files of the dashboard (dashboard.cc: lifecycle, sampling,
// logins; server.cc: its requests; events.cc: server-sent events). Not a public header.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/server.h"
#include "ui/dashboard.h"
#include "ui/sessions.h"
#include "ui/traffic_series.h"
#include "wire/json_text.h"

namespace lastgood::ui {

// A request to the Api on behalf of `name` with `role` (a session, or the sampler as a
// viewer). The principal is set where ApiRequest has one (auth, issue 5), so that the Api's
// own access check and audit see the dashboard's user.
template <typename Request = ApiRequest>
Request ApiCall(std::string method, std::string target, std::string body, const std::string& name,
                auth::Role role) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.actor = name;
  if constexpr (requires(Request & x) { x.principal; }) {
    r.principal.name = name;
    r.principal.role = role;
    r.principal.from = "dashboard";
  }
  return r;
}

struct Dashboard::Impl {
  Impl(ApiHandler a, DashboardOptions o, Clock* c)
      : api(std::move(a)), options(std::move(o)), clock(c), sessions(c) {}

  // Constant after construction.
  const ApiHandler api;  // call through CallApi
  const DashboardOptions options;
  Clock* const clock;
  std::string assets;       // set by Start
  std::string url;          // set by Start
  std::string cookie_name;  // "lg_session_PORT": one cookie per dashboard on a host

  Sessions sessions;
  TrafficSeries series;

  http::Server server;  // the one serve loop (http/server.h)
  std::thread sampler_thread;
  std::atomic<bool> stopping{false};
  bool started = false;  // set by Start

  std::mutex mu;
  std::condition_variable changed;
  int event_streams = 0;  // GUARDED_BY(mu)

  // api(request), except that what the API throws is logged and answered 500: one request
  // never ends the controller (issue 11 A1).
  ApiResponse CallApi(const ApiRequest& request);
  void SampleLoop();
  // One request of the dashboard's listener (ui/server.cc).
  http::Answer Handle(const http::Peer& peer, http::Request& request);
  // The server-sent events of `app` for the session of `cookie` (ui/events.cc).
  http::Answer Events(const http::Request& request, const std::string& app,
                      const std::string& cookie);
  // Sleeps up to `millis`, returning early (false) when stopping.
  bool SleepUnlessStopping(int millis);
};

}  // namespace lastgood::ui
