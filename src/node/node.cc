#include "node/node.h"

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/json.h"
#include "api/route.h"
#include "base/build_id.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/names.h"
#include "base/version.h"
#include "health/probe.h"
#include "node/node_logs.h"
#include "node/sealed_env.h"
#include "router/health_report.h"
#include "targets/remote/node_wire.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

constexpr Millis kDefaultStatsWindow{10'000};

ApiResponse Json(const json& j, int status = 200) { return {status, DumpJson(j)}; }
ApiResponse Fail(const Error& e) { return ErrorResponse(e); }

// "/v1/instances/web-1" split at '/', without the empty first part.
std::vector<std::string> Parts(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool PlainId(const std::string& s) {
  if (s.empty() || s.size() > 200 || s[0] == '.') return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

// What a table serves, for the node's log: "web/production v2:web-production-v2-h1-1 …" per
// slot, the backends of the versions that get requests (weight above 0).
std::string Serving(const RoutingTable& table) {
  std::string out;
  for (const auto& app : table.apps) {
    for (const auto& slot : app.slots) {
      out += (out.empty() ? "" : "; ") + app.name + "/" + slot.name;
      for (const auto& v : slot.versions) {
        if (v.weight <= 0) continue;
        for (const auto& b : v.backends) out += " v" + std::to_string(v.version) + ":" + b.id;
      }
    }
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace

Node::Node(NodeOptions options, Target* target, RouterControl* router)
    : options_(std::move(options)),
      target_(target),
      router_(router),
      artifacts_(options_.home + "/artifacts", options_.home + "/releases"),
      state_(options_.home + "/node-state.json") {}

Result<std::vector<std::string>> Node::Recover() {
  std::lock_guard lock(mu_);
  // Made at the first start, so that the first instance with a secret finds it.
  auto key = LoadOrCreateNodeKey(options_.home);
  if (!key.ok()) return key.error();
  state_.UseKey(*key);
  LG_RETURN_IF_ERROR(state_.Load());
  std::vector<std::string> log;
  std::vector<NodeInstanceRecord> records;
  for (const auto& [id, rec] : state_.instances()) records.push_back(rec);
  for (auto& rec : records) {
    rec.spec.logDir = options_.home + "/logs";
    std::string refused;
    for (const auto& r : rec.refusedEnv) refused += (refused.empty() ? "" : "; ") + r;
    // Restarts must be confined as the start was: an instance that cannot be confined now
    // (its user is gone from the host) is not adopted, and so it is stopped below.
    auto box = SandboxOf(rec.spec.app, rec.spec.runUser, rec.spec.cwd, rec.spec.id);
    if (!box.ok()) {
      log.push_back("instance " + rec.spec.id +
                    " cannot be confined now, and is not kept running: " + box.error().message);
      continue;
    }
    rec.spec.sandbox = *box;
    auto adopted = target_->Adopt(rec.spec, rec.handle);
    if (adopted.ok()) {
      log.push_back("re-adopted instance " + rec.spec.id + " (pid " + std::to_string(adopted->pid) +
                    ")");
      if (!refused.empty()) {
        log.push_back("instance " + rec.spec.id + " runs on, but its secret variables were " +
                      "refused (" + refused + "): if it dies it restarts without them; " +
                      "deploy the app again to give it its values");
      }
      rec.handle = *adopted;
    } else if (!refused.empty()) {
      // Started without its secrets it would run with a wrong configuration: the controller
      // sees it as not alive and starts another with the values.
      log.push_back("instance " + rec.spec.id + " had stopped and is not started again: " +
                    "its secret variables were refused (" + refused + ")");
      continue;
    } else {
      auto started = target_->Start(rec.spec);
      if (!started.ok()) {
        log.push_back("instance " + rec.spec.id +
                      " had stopped and cannot start again: " + started.error().message);
        continue;  // kept on record: the controller sees it as not alive and decides
      }
      log.push_back("instance " + rec.spec.id + " had stopped; started it again (pid " +
                    std::to_string(started->pid) + ")");
      rec.handle = *started;
    }
    state_.Put(rec);
  }
  LG_RETURN_IF_ERROR(state_.Save());
  // What runs in a release directory with no record here (a crash between a start and its
  // record) is stopped, as the controller does for its own machine.
  target_->StopStrays();
  return log;
}

ApiResponse Node::Handle(const ApiRequest& request) {
  std::string path = request.target, query;
  if (size_t q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  const auto p = Parts(path);
  const std::string& m = request.method;
  if (p.size() < 2 || p[0] != "v1") return Fail(Error::NotFound("no route " + path));
  if (p.size() == 2 && p[1] == "node" && m == "GET") return Info();
  if (p.size() == 3 && p[1] == "node" && p[2] == "stop" && m == "POST" && options_.stop) {
    options_.stop();
    return Json({{"stopping", true}});
  }
  if (p[1] == "instances") {
    if (p.size() == 2 && m == "GET") return ListInstances();
    if (p.size() == 3 && !PlainId(p[2])) return Fail(Error::NotFound("no instance " + p[2]));
    if (p.size() == 3 && m == "PUT") return EnsureInstance(p[2], request.body);
    if (p.size() == 3 && m == "GET") return InstanceState(p[2]);
    if (p.size() == 3 && m == "DELETE") return StopInstance(p[2]);
  }
  if (p.size() == 3 && p[1] == "router" && p[2] == "table" && m == "PUT")
    return ApplyTable(request.body);
  if (p.size() == 3 && p[1] == "router" && p[2] == "stats" && m == "GET") return Stats(query);
  if (p.size() == 3 && p[1] == "router" && p[2] == "health" && m == "GET") return RouterHealthOf();
  if (p.size() == 3 && p[1] == "artifacts" && m == "GET") return HasArtifact(p[2]);
  if (p.size() == 2 && p[1] == "releases" && m == "POST") return EnsureRelease(request.body);
  if (p.size() == 2 && p[1] == "probe" && m == "POST") return Probe(request.body);
  if (p.size() == 2 && p[1] == "logs" && m == "GET") return Logs(query);
  return Fail(Error::NotFound("no route " + m + " " + path));
}

ApiResponse Node::Info() {
  NodeInfo info{BuildId(),
                options_.version,
                ThisBuild().commit,
                MachineArch(),
                static_cast<int>(::getpid()),
                0,
                "none",
                "this node was started without confinement"};
  if (options_.confinement != nullptr) {
    info.confinement = options_.confinement->Mode();
    info.confinementDetail = options_.confinement->Describe();
  }
  {
    std::lock_guard lock(mu_);
    info.instances = static_cast<int>(state_.instances().size());
  }
  return Json(NodeInfoToJson(info));
}

ApiResponse Node::ListInstances() {
  std::lock_guard lock(mu_);
  json out = json::array();
  for (const auto& [id, rec] : state_.instances()) {
    auto s = target_->Status(id);
    InstanceStatus status = s.ok() ? *s : InstanceStatus{false, 0, s.error().message, rec.handle};
    json spec = SpecToJson(rec.spec);
    HideSecretValues(&spec);  // never in an answer
    out.push_back({{"spec", std::move(spec)}, {"status", InstanceStatusToJson(status)}});
  }
  return Json(out);
}

Status Node::CheckReleaseDir(const std::string& dir) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path releases = fs::weakly_canonical(options_.home + "/releases", ec);
  fs::path cwd = fs::weakly_canonical(dir, ec);
  if (ec) return Error::InvalidInput("cwd '" + dir + "' cannot be resolved", "cwd");
  auto rel = cwd.lexically_relative(releases);
  if (rel.empty() || rel.native().rfind("..", 0) == 0 || rel == ".")
    return Error::InvalidInput("cwd '" + dir + "' is not a release directory of this node", "cwd");
  return Status::Ok();
}

ApiResponse Node::EnsureInstance(const std::string& id, const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Fail(Error::InvalidInput("the body is not JSON"));
  auto spec = SpecFromJson(j);
  if (!spec.ok()) return Fail(spec.error());
  if (spec->id != id) return Fail(Error::InvalidInput("the spec's id is not the path's", "id"));
  if (auto s = CheckReleaseDir(spec->cwd); !s.ok()) return Fail(s.error());
  spec->logDir = options_.home + "/logs";
  std::lock_guard lock(mu_);
  if (auto it = state_.instances().find(id); it != state_.instances().end()) {
    auto s = target_->Status(id);
    if (s.ok()) return Json(HandleToJson(s->handle));  // already runs (or is being restarted)
  }
  auto box = SandboxOf(spec->app, spec->runUser, spec->cwd, spec->id);
  if (!box.ok()) return Fail(box.error());
  spec->sandbox = *box;
  auto started = target_->Start(*spec);
  if (!started.ok()) return Fail(started.error());
  spec->port = started->port;  // a restart (by the node, after its own restart) keeps the port
  state_.Put({*spec, *started, {}});
  if (auto s = state_.Save(); !s.ok()) return Fail(s.error());
  if (options_.log)
    options_.log("started instance " + id + " (pid " + std::to_string(started->pid) + ")");
  return Json(HandleToJson(*started));
}

Result<Sandbox> Node::SandboxOf(const std::string& spec_app, const std::string& run_user,
                                const std::string& cwd, const std::string& label) {
  if (options_.confinement == nullptr) {
    if (run_user.empty()) return Sandbox{};
    return Error::InvalidInput(
        "run.user '" + run_user + "': this node confines nothing and runs every app as itself",
        "run.user");
  }
  // The app is the release directory's (releases/APP/VERSION), which the node made itself,
  // when a spec does not name it.
  std::string app = spec_app;
  if (app.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto rel = fs::weakly_canonical(cwd, ec).lexically_relative(
        fs::weakly_canonical(options_.home + "/releases", ec));
    app = rel.empty() ? "" : rel.begin()->string();
  }
  if (auto s = ValidateName(app, "app name", "app"); !s.ok()) return s.error();
  // Checked here whatever the mode: For() checks run.user only where it applies it (as root).
  if (auto s = options_.confinement->CheckRunUser(run_user); !s.ok()) return s.error();
  return options_.confinement->For(app, run_user, cwd, label);
}

ApiResponse Node::InstanceState(const std::string& id) {
  std::lock_guard lock(mu_);
  if (!state_.instances().count(id)) return Fail(Error::NotFound("no instance " + id + " here"));
  auto s = target_->Status(id);
  if (!s.ok()) return Fail(s.error());
  return Json(InstanceStatusToJson(*s));
}

ApiResponse Node::StopInstance(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto s = target_->Stop(id); !s.ok()) return Fail(s.error());
  state_.Remove(id);
  if (auto s = state_.Save(); !s.ok()) return Fail(s.error());
  return Json(json::object());
}

ApiResponse Node::ApplyTable(const std::string& body) {
  auto table = TableFromJson(body);
  if (!table.ok()) return Fail(table.error());
  std::lock_guard lock(table_mu_);
  if (auto s = router_->Apply(*table); !s.ok()) return Fail(s.error());
  std::string serving = Serving(*table);
  if (serving != serving_ && options_.log)
    options_.log("router table " + std::to_string(table->generation) + " in force: " + serving);
  serving_ = std::move(serving);
  return Json({{"generation", table->generation}});
}

// The host router's own report: its table, and which of the table's listener addresses it
// could bind (the controller fails the step that brought in one it could not).
ApiResponse Node::RouterHealthOf() {
  auto health = router_->Health();
  if (!health.ok()) return Fail(health.error());
  return {200, HealthToJson(*health)};
}

ApiResponse Node::Stats(const std::string& query) {
  Millis window = kDefaultStatsWindow;
  if (query.rfind("window=", 0) == 0) {
    auto w = ParseDuration(query.substr(7));
    if (!w.ok()) return Fail(w.error());
    window = *w;
  }
  auto stats = router_->Stats(window);
  if (!stats.ok()) return Fail(stats.error());
  return {200, StatsToJson(*stats)};
}

ApiResponse Node::Logs(const std::string& query) {
  std::vector<std::string> running;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, rec] : state_.instances()) running.push_back(id);
  }
  return NodeLogs(options_.home + "/logs", running, ParseQuery(query), Clock::Real()->NowMillis());
}

ApiResponse Node::HasArtifact(const std::string& digest) {
  if (!artifacts_.Has(digest)) return Fail(Error::NotFound("no artifact " + digest + " here"));
  return Json(json::object());
}

ApiResponse Node::Probe(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Fail(Error::InvalidInput("the body is not JSON"));
  auto spec = ProbeFromJson(j);
  if (!spec.ok()) return Fail(spec.error());
  // An exec probe runs what a version ships, where its instances run: nowhere else.
  if (spec->kind == ProbeSpec::Kind::kExec) {
    if (auto s = CheckReleaseDir(spec->cwd); !s.ok()) return Fail(s.error());
    // Confined as the app's instances on this host are (a smoke test, an exec readiness).
    auto box = SandboxOf(spec->app, spec->runUser, spec->cwd, "exec probe " + spec->command[0]);
    if (!box.ok()) return Fail(box.error());
    spec->sandbox = *box;
  }
  return Json(ProbeResultToJson(RunProbe(*spec)));
}

ApiResponse Node::EnsureRelease(const std::string& body) {
  auto j = ParseRequestBody(body, {"app", "version", "digest", "name"});
  if (!j.ok()) return Fail(j.error());
  auto app = BodyField<std::string>(*j, "app");
  auto version = BodyField<int>(*j, "version");
  auto digest = BodyField<std::string>(*j, "digest");
  auto name = BodyField<std::string>(*j, "name");
  for (const auto* r : {&app, &digest, &name})
    if (!r->ok()) return Fail(r->error());
  if (!version.ok()) return Fail(version.error());
  if (!app->has_value() || !version->has_value() || **version < 1)
    return Fail(Error::InvalidInput("app and version (1 or more) are required"));
  if (auto s = ValidateName(**app, "app name", "app"); !s.ok()) return Fail(s.error());
  auto dir = artifacts_.EnsureRelease(**app, **version, digest->value_or(""), name->value_or(""));
  if (!dir.ok()) return Fail(dir.error());
  return Json({{"dir", *dir}});
}

}  // namespace lastgood
