// The read routes of apps: the list, an app's status, its versions and their diff, its
// deployment records and the router's measurements. Viewers may call them all.
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "base/duration.h"
#include "base/version.h"
#include "engine/engine.h"
#include "store/store.h"

namespace lastgood {
namespace {

using nlohmann::json;

ApiResponse Ok(const json& j) { return {200, DumpJson(j)}; }

Result<int> ParseInt(const std::string& s, const std::string& what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return Error::InvalidInput(what + " must be a whole number, not '" + s + "'", what);
  return v;
}

}  // namespace

ApiResponse Health(const RouteCall&) {
  return Ok({{"ok", true}, {"pid", ::getpid()}, {"version", BuildVersionJson(ThisBuild())}});
}

ApiResponse ListApps(const RouteCall& call) {
  auto apps = call.store.ListApps();
  if (!apps.ok()) return ErrorResponse(apps.error());
  json out = json::array();
  for (const auto& a : *apps) {
    auto st = call.engine.StatusOf(a.name);
    if (st.ok()) out.push_back(StatusJson(*st));
  }
  return Ok(out);
}

ApiResponse AppStatusOf(const RouteCall& call) {
  auto st = call.engine.StatusOf(call.app());
  if (!st.ok()) return ErrorResponse(st.error());
  return Ok(StatusJson(*st));
}

ApiResponse ListVersions(const RouteCall& call) {
  auto vs = call.store.ListVersions(call.app());
  if (!vs.ok()) return ErrorResponse(vs.error());
  if (vs->empty()) {
    if (auto s = call.engine.StatusOf(call.app()); !s.ok()) return ErrorResponse(s.error());
  }
  json out = json::array();
  for (const auto& v : *vs) out.push_back(VersionJson(v));
  return Ok(out);
}

ApiResponse ShowVersion(const RouteCall& call) {
  auto n = ParseInt(call.path.at("version"), "version");
  if (!n.ok()) return ErrorResponse(n.error());
  auto v = call.store.GetVersion(call.app(), *n);
  if (!v.ok()) return ErrorResponse(v.error());
  json j = VersionJson(*v);
  j["app"] = call.app();
  j["manifest"] = v->manifest;
  return Ok(j);
}

ApiResponse DiffVersions(const RouteCall& call) {
  auto a = ParseInt(call.Query("a").value_or(""), "a");
  auto b = ParseInt(call.Query("b").value_or(""), "b");
  if (!a.ok()) return ErrorResponse(a.error());
  if (!b.ok()) return ErrorResponse(b.error());
  auto d = call.engine.Diff(call.app(), *a, *b);
  if (!d.ok()) return ErrorResponse(d.error());
  return Ok({{"app", call.app()}, {"a", *a}, {"b", *b}, {"diff", *d}});
}

ApiResponse AppTraffic(const RouteCall& call) {
  Millis window{10'000};
  if (auto text = call.Query("window")) {
    auto w = ParseDuration(*text);
    if (!w.ok() || w->count() < 1000 || w->count() > 120'000)
      return ErrorResponse(
          Error::InvalidInput("window must be a duration from 1s to 2m", "window"));
    window = *w;
  }
  auto stats = call.engine.Traffic(call.app(), window);
  if (!stats.ok()) return ErrorResponse(stats.error());
  json rows = json::array();
  for (const auto& r : stats->rows) {
    double secs = std::max<double>(stats->windowMillis, 1) / 1000.0;
    uint64_t errors = r.responses5xx + r.connectErrors + r.timeouts;
    rows.push_back(
        {{"slot", r.slot},
         {"version", r.version},
         {"pinned", r.pinned},
         {"requests", r.requests},
         {"ratePerSecond", r.requests / secs},
         {"responses",
          {{"2xx", r.responses2xx},
           {"3xx", r.responses3xx},
           {"4xx", r.responses4xx},
           {"5xx", r.responses5xx}}},
         {"connectErrors", r.connectErrors},
         {"timeouts", r.timeouts},
         {"errorRate", r.requests ? double(errors) / r.requests : 0.0},
         {"latencyMs", {{"p50", r.p50ms}, {"p90", r.p90ms}, {"p99", r.p99ms}, {"max", r.maxms}}}});
  }
  return Ok({{"app", call.app()}, {"windowMillis", stats->windowMillis}, {"versions", rows}});
}

ApiResponse ListDeployments(const RouteCall& call) {
  int limit = kDefaultHistoryLimit;
  if (auto text = call.Query("limit")) {
    auto l = ParseInt(*text, "limit");
    if (!l.ok()) return ErrorResponse(l.error());
    if (*l < 1 || *l > kMaxHistoryLimit)
      return ErrorResponse(Error::InvalidInput("limit must be between 1 and 10000", "limit"));
    limit = *l;
  }
  auto ds = call.store.ListDeployments(call.app(), limit);
  if (!ds.ok()) return ErrorResponse(ds.error());
  if (ds->empty()) {
    if (auto s = call.engine.StatusOf(call.app()); !s.ok()) return ErrorResponse(s.error());
  }
  json out = json::array();
  for (const auto& d : *ds) out.push_back(DeploymentJson(d, false));
  return Ok(out);
}

// With since=SEQ, a long-poll: waits (up to wait=MS) until something changed after SEQ.
ApiResponse ShowDeployment(const RouteCall& call) {
  if (auto since_text = call.Query("since")) {
    uint64_t since = std::strtoull(since_text->c_str(), nullptr, 10);
    int wait = kMaxWaitMillis;
    if (auto wait_text = call.Query("wait")) {
      auto w = ParseInt(*wait_text, "wait");
      if (!w.ok()) return ErrorResponse(w.error());
      wait = std::clamp(*w, 0, kMaxWaitMillis);
    }
    call.engine.WaitForChange(since, Millis(wait));
  }
  uint64_t seq = call.engine.ChangeSeq();
  const std::string& name = call.path.at("name");
  auto d = call.store.GetDeployment(call.app(), name);
  if (!d.ok()) return ErrorResponse(d.error());
  json j = DeploymentJson(*d, true);
  j["app"] = call.app();
  j["changeSeq"] = seq;
  auto follow = IsFinal(d->state) ? call.engine.FollowUp(call.app(), d->name) : std::nullopt;
  j["followedBy"] = follow ? json(*follow) : json(nullptr);
  return Ok(j);
}

}  // namespace lastgood
