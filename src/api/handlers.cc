#include "api/handlers.h"

#include <unistd.h>

#include <charconv>
#include <map>
#include <set>
#include <vector>

#include "api/json.h"
#include "base/duration.h"
#include "base/names.h"

namespace lastgood {
namespace {

using nlohmann::json;

struct RouteTarget {
  std::vector<std::string> path;  // segments after "/v1"
  std::map<std::string, std::string> query;
};

RouteTarget SplitTarget(const std::string& target) {
  RouteTarget t;
  std::string path = target.substr(0, target.find('?'));
  std::string query =
      target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) t.path.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  if (!t.path.empty() && t.path[0] == "v1")
    t.path.erase(t.path.begin());
  else
    t.path.insert(t.path.begin(), "?");  // not under /v1: no route matches
  size_t k = 0;
  while (k < query.size()) {
    size_t amp = query.find('&', k);
    if (amp == std::string::npos) amp = query.size();
    std::string kv = query.substr(k, amp - k);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) t.query[kv.substr(0, eq)] = kv.substr(eq + 1);
    k = amp + 1;
  }
  return t;
}

ApiResponse Ok(const json& j) { return {200, DumpJson(j)}; }
ApiResponse Fail(const Error& e) { return ErrorResponse(e); }

Result<int> ParseInt(const std::string& s, const std::string& what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return Error::InvalidInput(what + " must be a whole number, not '" + s + "'", what);
  return v;
}

// Parses a JSON object body whose fields must be among `allowed`.
Result<json> Body(const std::string& body, const std::set<std::string>& allowed) {
  return ParseRequestBody(body, allowed);  // api/json.h: size, depth and field limits
}

#define LG_FIELD(var, type, j, name)               \
  auto var##_r = BodyField<type>(j, name);         \
  if (!var##_r.ok()) return Fail(var##_r.error()); \
  auto var = *var##_r;

}  // namespace

ApiResponse Api::Route(const ApiRequest& req) {
  for (const auto& [prefix, handler] : mounts_) {
    if (req.target.rfind(prefix, 0) == 0) return handler(req);
  }
  RouteTarget t = SplitTarget(req.target);
  const auto& p = t.path;
  const bool get = req.method == "GET", post = req.method == "POST";

  if (get && p == std::vector<std::string>{"health"}) {
    return Ok({{"ok", true}, {"pid", ::getpid()}});
  }
  if (get && p == std::vector<std::string>{"apps"}) {
    auto apps = store_->ListApps();
    if (!apps.ok()) return Fail(apps.error());
    json out = json::array();
    for (const auto& a : *apps) {
      auto st = engine_->StatusOf(a.name);
      if (st.ok()) out.push_back(StatusJson(*st));
    }
    return Ok(out);
  }
  if (post && p == std::vector<std::string>{"apply"}) {
    auto body = Body(req.body, {"manifest", "manifestDir", "params", "name", "slot", "whatIf",
                                "rollbackOnError"});
    if (!body.ok()) return Fail(body.error());
    LG_FIELD(manifest, std::string, *body, "manifest");
    LG_FIELD(dir, std::string, *body, "manifestDir");
    using Params = std::map<std::string, std::string>;
    LG_FIELD(params, Params, *body, "params");
    LG_FIELD(name, std::string, *body, "name");
    LG_FIELD(slot, std::string, *body, "slot");
    LG_FIELD(what_if, bool, *body, "whatIf");
    LG_FIELD(on_error, std::string, *body, "rollbackOnError");
    if (!manifest) return Fail(Error::InvalidInput("field 'manifest' is required", "manifest"));
    ApplyRequest ar;
    ar.manifest = *manifest;
    ar.manifestDir = dir.value_or(".");
    ar.params = params.value_or(std::map<std::string, std::string>{});
    ar.name = name.value_or("");
    ar.slot = slot.value_or(kProductionSlot);
    ar.whatIf = what_if.value_or(false);
    ar.rollbackOnError = on_error;
    ar.actor = req.actor;
    ar.remote = req.needsToken;
    auto o = engine_->Apply(ar);
    if (!o.ok()) return Fail(o.error());
    return Ok(OutcomeJson(*o));
  }
  if (p.size() < 2 || p[0] != "apps") {
    return Fail(Error::NotFound("no such API route: " + req.method + " " + req.target));
  }
  const std::string& app = p[1];
  if (auto s = ValidateName(app, "app name"); !s.ok()) return Fail(s.error());

  if (get && p.size() == 2) {
    auto st = engine_->StatusOf(app);
    if (!st.ok()) return Fail(st.error());
    return Ok(StatusJson(*st));
  }
  if (get && p.size() == 3 && p[2] == "versions") {
    auto vs = store_->ListVersions(app);
    if (!vs.ok()) return Fail(vs.error());
    if (vs->empty()) {
      if (auto s = engine_->StatusOf(app); !s.ok()) return Fail(s.error());
    }
    json out = json::array();
    for (const auto& v : *vs) out.push_back(VersionJson(v));
    return Ok(out);
  }
  if (get && p.size() == 4 && p[2] == "versions") {
    auto n = ParseInt(p[3], "version");
    if (!n.ok()) return Fail(n.error());
    auto v = store_->GetVersion(app, *n);
    if (!v.ok()) return Fail(v.error());
    json j = VersionJson(*v);
    j["app"] = app;
    j["manifest"] = v->manifest;
    return Ok(j);
  }
  if (get && p.size() == 3 && p[2] == "traffic") {
    Millis window{10'000};
    if (t.query.count("window")) {
      auto w = ParseDuration(t.query["window"]);
      if (!w.ok() || w->count() < 1000 || w->count() > 120'000)
        return Fail(Error::InvalidInput("window must be a duration from 1s to 2m", "window"));
      window = *w;
    }
    auto stats = engine_->Traffic(app, window);
    if (!stats.ok()) return Fail(stats.error());
    json rows = json::array();
    for (const auto& r : stats->rows) {
      double secs = std::max<double>(stats->windowMillis, 1) / 1000.0;
      uint64_t errors = r.responses5xx + r.connectErrors + r.timeouts;
      rows.push_back({{"slot", r.slot},
                      {"version", r.version},
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
                      {"latencyMs",
                       {{"p50", r.p50ms}, {"p90", r.p90ms}, {"p99", r.p99ms}, {"max", r.maxms}}}});
    }
    return Ok({{"app", app}, {"windowMillis", stats->windowMillis}, {"versions", rows}});
  }
  if (get && p.size() == 3 && p[2] == "diff") {
    auto a = ParseInt(t.query["a"], "a");
    auto b = ParseInt(t.query["b"], "b");
    if (!a.ok()) return Fail(a.error());
    if (!b.ok()) return Fail(b.error());
    auto d = engine_->Diff(app, *a, *b);
    if (!d.ok()) return Fail(d.error());
    return Ok({{"app", app}, {"a", *a}, {"b", *b}, {"diff", *d}});
  }
  if (get && p.size() == 3 && p[2] == "deployments") {
    int limit = kDefaultHistoryLimit;
    if (t.query.count("limit")) {
      auto l = ParseInt(t.query["limit"], "limit");
      if (!l.ok()) return Fail(l.error());
      if (*l < 1 || *l > kMaxHistoryLimit)
        return Fail(Error::InvalidInput("limit must be between 1 and 10000", "limit"));
      limit = *l;
    }
    auto ds = store_->ListDeployments(app, limit);
    if (!ds.ok()) return Fail(ds.error());
    if (ds->empty()) {
      if (auto s = engine_->StatusOf(app); !s.ok()) return Fail(s.error());
    }
    json out = json::array();
    for (const auto& d : *ds) out.push_back(DeploymentJson(d, false));
    return Ok(out);
  }
  if (get && p.size() == 4 && p[2] == "deployments") {
    // Long-poll: with since=SEQ, wait (up to wait=MS) until something changed after SEQ.
    if (t.query.count("since")) {
      uint64_t since = std::strtoull(t.query["since"].c_str(), nullptr, 10);
      int wait = kMaxWaitMillis;
      if (t.query.count("wait")) {
        auto w = ParseInt(t.query["wait"], "wait");
        if (!w.ok()) return Fail(w.error());
        wait = std::clamp(*w, 0, kMaxWaitMillis);
      }
      engine_->WaitForChange(since, Millis(wait));
    }
    uint64_t seq = engine_->ChangeSeq();
    auto d = store_->GetDeployment(app, p[3]);
    if (!d.ok()) return Fail(d.error());
    json j = DeploymentJson(*d, true);
    j["app"] = app;
    j["changeSeq"] = seq;
    auto follow = IsFinal(d->state) ? engine_->FollowUp(app, d->name) : std::nullopt;
    j["followedBy"] = follow ? json(*follow) : json(nullptr);
    return Ok(j);
  }
  if (post && p.size() == 3 && (p[2] == "rollback" || p[2] == "rollforward")) {
    auto body = Body(req.body, {"to", "force", "whatIf", "slot"});
    if (!body.ok()) return Fail(body.error());
    LG_FIELD(to, int, *body, "to");
    LG_FIELD(force, bool, *body, "force");
    LG_FIELD(what_if, bool, *body, "whatIf");
    LG_FIELD(slot, std::string, *body, "slot");
    RollRequest rr{app,
                   to,
                   force.value_or(false),
                   what_if.value_or(false),
                   slot.value_or(kProductionSlot),
                   req.actor};
    auto o = p[2] == "rollback" ? engine_->Rollback(rr) : engine_->Rollforward(rr);
    if (!o.ok()) return Fail(o.error());
    return Ok(OutcomeJson(*o));
  }
  if (post && p.size() == 3 && p[2] == "promote") {
    auto body = Body(req.body, {"version", "whatIf"});
    if (!body.ok()) return Fail(body.error());
    LG_FIELD(version, int, *body, "version");
    LG_FIELD(what_if, bool, *body, "whatIf");
    if (!version) return Fail(Error::InvalidInput("field 'version' is required", "version"));
    auto o = engine_->Promote({app, *version, what_if.value_or(false), req.actor});
    if (!o.ok()) return Fail(o.error());
    return Ok(OutcomeJson(*o));
  }
  if (post && p.size() == 3 && p[2] == "swap") {
    auto body = Body(req.body, {"source", "target", "action", "whatIf"});
    if (!body.ok()) return Fail(body.error());
    LG_FIELD(source, std::string, *body, "source");
    LG_FIELD(target, std::string, *body, "target");
    LG_FIELD(action, std::string, *body, "action");
    LG_FIELD(what_if, bool, *body, "whatIf");
    SwapRequest sr;
    sr.app = app;
    sr.source = source.value_or("staging");
    sr.target = target.value_or(kProductionSlot);
    sr.phase = action.value_or("swap");
    sr.whatIf = what_if.value_or(false);
    sr.actor = req.actor;
    auto o = engine_->Swap(sr);
    if (!o.ok()) return Fail(o.error());
    return Ok(OutcomeJson(*o));
  }
  if (post && p.size() == 3 && p[2] == "traffic") {
    // One slot ({slot, percent}, as the dashboard sends) or several ({shares: {slot: %}}).
    auto body = Body(req.body, {"slot", "percent", "shares", "whatIf"});
    if (!body.ok()) return Fail(body.error());
    LG_FIELD(slot, std::string, *body, "slot");
    LG_FIELD(percent, int, *body, "percent");
    using Shares = std::map<std::string, int>;
    LG_FIELD(shares, Shares, *body, "shares");
    LG_FIELD(what_if, bool, *body, "whatIf");
    if (shares ? (slot || percent) : (!slot || !percent))
      return Fail(Error::InvalidInput("give either 'slot' and 'percent', or 'shares'", "shares"));
    TrafficRequest tr;
    tr.app = app;
    if (shares) {
      tr.shares = *shares;
    } else {
      tr.shares[*slot] = *percent;
    }
    tr.whatIf = what_if.value_or(false);
    tr.actor = req.actor;
    auto o = engine_->SetTraffic(tr);
    if (!o.ok()) return Fail(o.error());
    return Ok(OutcomeJson(*o));
  }
  if (post && p.size() == 3 && (p[2] == "pause" || p[2] == "resume" || p[2] == "abort")) {
    auto body = Body(req.body, {"whatIf"});
    if (!body.ok()) return Fail(body.error());
    LG_FIELD(what_if, bool, *body, "whatIf");
    auto o = engine_->Control({app, p[2], what_if.value_or(false), req.actor});
    if (!o.ok()) return Fail(o.error());
    return Ok(OutcomeJson(*o));
  }
  return Fail(Error::NotFound("no such API route: " + req.method + " " + req.target));
}

}  // namespace lastgood
