// Fuzz target: whole requests through the controller's API (api/handlers.h: access checks,
// the route table, the handlers, the audit) against a real SQLite store in a temporary folder
// and a real Engine whose seams are the unit tests' fakes (no process, no socket, no router).
//
// An input is up to kMaxRequests requests separated by "\n~~~\n". Each is a line
// "R METHOD TARGET" then the body: R picks who asks (a admin, d deployer, v viewer, t a TCP
// caller with a made-up token). After them, every listing that echoes stored text is read
// back as an admin: apps, each app's status, versions (each one shown), diffs, history, each
// deployment, traffic and secrets, and the audit (whole and per app).
//
// Findings: a crash, an uncaught exception, a 5xx, or an answer that is not valid JSON (UTF-8
// included: nlohmann refuses invalid bytes) where JSON is promised.
//
// Each input gets a fresh store and engine, so a finding replays alone. The fuzzer never runs
// a command: a manifest that would (hooks, exec probes and checks, smoke tests) or that reaches
// outside the folder (an artifact, webhooks, Prometheus, fleet hosts, run.user) is not sent.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/handlers.h"
#include "api/json.h"
#include "artifacts/artifact_store.h"
#include "base/percent_encode.h"
#include "engine/engine.h"
#include "engine/routes.h"
#include "manifest/parser.h"
#include "secrets/secret_box.h"
#include "store/store.h"
#include "testutil/fake_clock.h"
#include "testutil/fake_router.h"
#include "testutil/fake_target.h"

namespace {

using lastgood::Api;
using lastgood::ApiRequest;
using lastgood::ApiResponse;
using lastgood::PercentEncode;
using nlohmann::json;

constexpr size_t kMaxRequests = 8;
constexpr size_t kMaxReadBack = 32;  // of each kind of listing: versions, deployments
constexpr char kSeparator[] = "\n~~~\n";

// The folder of this process's worlds, removed at exit (never destroyed before that: the
// handler reads it).
const std::string& TempRoot() {
  static const std::string* root = [] {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    auto* dir = new std::string(base + "/lg-fuzz-api-XXXXXX");
    if (mkdtemp(dir->data()) == nullptr) abort();
    return dir;
  }();
  static const bool cleaned_at_exit = std::atexit([] {
                                        std::error_code ec;
                                        std::filesystem::remove_all(*root, ec);
                                      }) == 0;
  (void)cleaned_at_exit;
  return *root;
}

// Whether the manifest of an apply body would run a command or reach outside the folder;
// false when it does not parse (the API refuses it the same way: same parser, same input).
bool ReachesOut(const std::string& body) {
  // Parsed as the API parses a body (api/json.cc), whatever fields it has: a body the API
  // refuses for another reason is skipped too, never one it would act on.
  json j = json::parse(body.empty() ? "{}" : body, nullptr, false);
  if (!j.is_object()) return false;
  if (!j.contains("manifest") || !j["manifest"].is_string()) return false;
  std::map<std::string, std::string> params;
  if (j.contains("params") && j["params"].is_object()) {
    for (const auto& [k, v] : j["params"].items()) {
      if (!v.is_string()) return false;
      params[k] = v.get<std::string>();
    }
  }
  auto parsed = lastgood::ParseManifest(j["manifest"].get<std::string>(), params);
  if (!parsed.ok()) return false;
  const lastgood::Manifest& m = parsed->manifest;
  const auto& h = m.hooks;
  if (h.preDeploy || h.postDeploy || h.preRollback || h.postRollback) return true;
  if (m.readiness && m.readiness->kind == lastgood::Probe::Kind::kExec) return true;
  if (m.strategy.blueGreen.smokeTest) return true;
  auto runs = [](const lastgood::Analysis& a) {
    if (a.prometheus) return true;  // asks a server of the manifest's choosing
    for (const auto& c : a.checks)
      if (c.kind == lastgood::AnalysisCheck::Kind::kExec) return true;
    return false;
  };
  if (m.strategy.blueGreen.analysis && runs(*m.strategy.blueGreen.analysis)) return true;
  for (const auto& step : m.strategy.canarySteps)
    if (runs(step.analysis)) return true;
  return !m.run.artifact.empty() || !m.notifications.webhooks.empty() || m.fleet.enabled() ||
         !m.run.user.empty();
}

// Everything an Engine drives, fresh in its own folder.
struct World {
  explicit World(const std::string& dir) : dir(dir), clock() {
    std::filesystem::create_directories(dir);
    auto opened = lastgood::OpenSqliteStore(dir + "/lastgood.db");
    if (!opened.ok()) abort();
    store = std::move(*opened);
    routes = std::make_unique<lastgood::Routes>(store.get(), &router, &clock);
    artifacts = std::make_unique<lastgood::ArtifactStore>(dir + "/artifacts", dir + "/releases");
    secrets = std::make_unique<lastgood::SecretBox>(store.get(), dir + "/secrets.key", &clock);
    lastgood::EngineDeps deps;
    deps.store = store.get();
    deps.target = &target;
    deps.artifacts = artifacts.get();
    deps.secrets = secrets.get();
    deps.routes = routes.get();
    deps.clock = &clock;
    deps.logDir = dir + "/logs";
    target.NewController();
    engine = std::make_unique<lastgood::Engine>(deps);
    if (!engine->Recover().ok()) abort();
    lastgood::ApiOptions options;
    options.storePath = dir + "/lastgood.db";
    options.home = dir;
    options.secrets = secrets.get();
    api = std::make_unique<Api>(engine.get(), store.get(), options);
  }
  ~World() {
    api.reset();
    engine.reset();
    routes.reset();
    secrets.reset();
    artifacts.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  lastgood::testutil::FakeClock clock;
  lastgood::testutil::FakeTarget target;
  lastgood::testutil::FakeRouter router;
  std::unique_ptr<lastgood::Store> store;
  std::unique_ptr<lastgood::Routes> routes;
  std::unique_ptr<lastgood::ArtifactStore> artifacts;
  std::unique_ptr<lastgood::SecretBox> secrets;
  std::unique_ptr<lastgood::Engine> engine;
  std::unique_ptr<Api> api;
};

// Sends one request and checks the answer; returns it parsed (null if not JSON by design).
// With API_REQUEST_TRACE set, each request and the start of its answer go to stderr: what a
// seed actually reaches (an apply refused at once reaches no listing worth reading).
json Send(Api& api, ApiRequest req) {
  ApiResponse res = api.Handle(req);
  static const bool trace = getenv("API_REQUEST_TRACE") != nullptr;
  if (trace)
    fprintf(stderr, "%s %s -> %d %.160s\n", req.method.c_str(), req.target.c_str(), res.status,
            res.body.c_str());
  if (res.status >= 500 && res.status != 503) {
    fprintf(stderr, "%s %s answered %d: %s\n", req.method.c_str(), req.target.c_str(), res.status,
            res.body.c_str());
    abort();
  }
  if (res.contentType != "application/json") return nullptr;
  json j = json::parse(res.body, nullptr, false);
  if (j.is_discarded()) {
    fprintf(stderr, "%s %s answered %d with a body that is not valid JSON: %s\n",
            req.method.c_str(), req.target.c_str(), res.status, res.body.c_str());
    abort();
  }
  return j;
}

ApiRequest AsAdmin(const std::string& method, const std::string& target) {
  ApiRequest r;
  r.method = method;
  r.target = target;
  r.principal = {"local:fuzz", lastgood::auth::Role::kAdmin, "unix"};
  r.actor = r.principal.name;
  return r;
}

// Reads back every listing that echoes stored text.
void ReadBack(Api& api) {
  Send(api, AsAdmin("GET", "/v1/audit"));
  json apps = Send(api, AsAdmin("GET", "/v1/apps"));
  if (!apps.is_array()) return;
  for (const auto& a : apps) {
    if (!a.is_object() || !a.contains("app") || !a["app"].is_string()) continue;
    const std::string app = "/v1/apps/" + PercentEncode(a["app"].get<std::string>());
    Send(api, AsAdmin("GET", app));
    Send(api, AsAdmin("GET", app + "/traffic"));
    Send(api, AsAdmin("GET", app + "/secrets"));
    Send(api, AsAdmin("GET", "/v1/audit?app=" + PercentEncode(a["app"].get<std::string>())));
    json versions = Send(api, AsAdmin("GET", app + "/versions"));
    int newest = 0;
    size_t shown = 0;
    if (versions.is_array()) {
      for (const auto& v : versions) {
        if (!v.is_object() || !v.contains("version") || !v["version"].is_number_integer()) continue;
        int n = v["version"].get<int>();
        newest = std::max(newest, n);
        if (++shown <= kMaxReadBack)
          Send(api, AsAdmin("GET", app + "/versions/" + std::to_string(n)));
      }
    }
    for (int n = 1; n < newest && n <= static_cast<int>(kMaxReadBack); ++n)
      Send(api,
           AsAdmin("GET", app + "/diff?a=" + std::to_string(n) + "&b=" + std::to_string(newest)));
    json history =
        Send(api, AsAdmin("GET", app + "/deployments?limit=" + std::to_string(kMaxReadBack)));
    if (!history.is_array()) continue;
    for (const auto& d : history) {
      if (!d.is_object() || !d.contains("name") || !d["name"].is_string()) continue;
      Send(api,
           AsAdmin("GET", app + "/deployments/" + PercentEncode(d["name"].get<std::string>())));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // No input reaches a webhook receiver or a Prometheus server (ReachesOut), so the TLS
  // clients trust nothing: loading the system's CA bundle for each Engine's notifier took
  // nine tenths of an input's time. Set before the first Engine, so before any thread.
  static const bool no_trust_store = setenv("SSL_CERT_FILE", "/dev/null", 1) == 0 &&
                                     setenv("SSL_CERT_DIR", "/nonexistent", 1) == 0;
  (void)no_trust_store;
  const std::string input(reinterpret_cast<const char*>(data), size);
  static int n = 0;
  World world(TempRoot() + "/" + std::to_string(++n));
  size_t at = 0;
  for (size_t i = 0; i < kMaxRequests && at <= input.size(); ++i) {
    size_t end = input.find(kSeparator, at);
    if (end == std::string::npos) end = input.size();
    std::string part = input.substr(at, end - at);
    at = end + sizeof kSeparator - 1;
    size_t line_end = part.find('\n');
    std::string head = part.substr(0, line_end);
    std::string body = line_end == std::string::npos ? "" : part.substr(line_end + 1);
    // "R METHOD TARGET"
    size_t s1 = head.find(' ');
    size_t s2 = s1 == std::string::npos ? s1 : head.find(' ', s1 + 1);
    if (s2 == std::string::npos) continue;
    ApiRequest req = AsAdmin(head.substr(s1 + 1, s2 - s1 - 1), head.substr(s2 + 1));
    req.body = body;
    switch (head[0]) {
      case 'd':
        req.principal = {"token:deployer", lastgood::auth::Role::kDeployer, "127.0.0.1:1"};
        break;
      case 'v':
        req.principal = {"token:viewer", lastgood::auth::Role::kViewer, "127.0.0.1:2"};
        break;
      case 't':
        req.principal = {};
        req.principal.from = "127.0.0.1:3";
        req.needsToken = true;
        req.bearer = body.substr(0, 80);
        break;
      default:
        break;
    }
    req.actor = req.principal.name;
    // A long-poll answers at once: the first wait= of a query is the one read.
    if (req.target.find("since=") != std::string::npos) {
      size_t q = req.target.find('?');
      if (q != std::string::npos) req.target.insert(q + 1, "wait=0&");
    }
    // Whatever the target says (a route may be spelt many ways), no body that carries such a
    // manifest is sent.
    if (ReachesOut(body)) continue;
    Send(*world.api, req);
  }
  ReadBack(*world.api);
  return 0;
}
