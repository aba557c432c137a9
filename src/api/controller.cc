#include "api/controller.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "api/handlers.h"
#include "api/hosts.h"
#include "api/instance_logs.h"
#include "api/metrics.h"
#include "api/router_process.h"
#include "api/server.h"
#include "api/socket_group.h"
#include "artifacts/artifact_store.h"
#include "artifacts/upload.h"
#include "base/duration.h"
#include "engine/engine.h"
#include "engine/routes.h"
#include "process/confinement.h"
#include "secrets/key_file.h"
#include "secrets/secret_box.h"
#include "store/store.h"
#include "targets/local/local_target.h"
#include "ui/dashboard.h"

namespace lastgood {

std::string ResolveHome(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* h = std::getenv("LASTGOOD_HOME"); h && *h) return h;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/lastgood";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/state/lastgood";
}

namespace {

// How long a starting controller waits for its fleet hosts' first answers before it resumes
// deployments (a host that has not answered by then is unreachable for them).
constexpr Millis kFirstContactWait{30'000};

void Log(const std::string& line) { std::fprintf(stderr, "lastgood serve: %s\n", line.c_str()); }

// Whether the process named by the lock file (a pid) still exists.
bool ControllerAlive(const std::string& pid_text) {
  char* end = nullptr;
  long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (pid_text.empty() || *end != '\0' || pid <= 0) return true;  // unknown: assume it runs
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// "2GiB", "512MiB", "64KiB" (also "2G", "512M", "64K"), or a number of bytes; 1 KiB to 1 TiB.
Result<uint64_t> ParseByteSize(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit.empty()) scale = 1;
  if (unit == "K" || unit == "KiB") scale = 1ULL << 10;
  if (unit == "M" || unit == "MiB") scale = 1ULL << 20;
  if (unit == "G" || unit == "GiB") scale = 1ULL << 30;
  if (unit == "T" || unit == "TiB") scale = 1ULL << 40;
  if (digits == 0 || digits > 12 || scale == 0) {
    return Error::InvalidInput("give a size like 2GiB, 512MiB or 64KiB");
  }
  uint64_t bytes = std::stoull(text.substr(0, digits)) * scale;
  if (bytes < (1ULL << 10) || bytes > (1ULL << 40))
    return Error::InvalidInput("give a size from 1KiB to 1TiB");
  return bytes;
}

// Deletes the uploads no version uses, once their grace period is over (artifacts/upload.h),
// and logs how many.
void SweepUploads(ArtifactUploads* uploads, Store* store, int64_t now) {
  std::set<std::string> used;
  auto apps = store->ListApps();
  if (!apps.ok()) return;  // unsure what is used: delete nothing
  for (const auto& app : *apps) {
    auto versions = store->ListVersions(app.name);
    if (!versions.ok()) return;
    for (const auto& v : *versions) used.insert(v.digest);
  }
  int deleted = uploads->Sweep(now, kUploadGraceMillis, [&used](const std::string& digest) {
    return used.count(digest) > 0;
  });
  if (deleted > 0)
    Log("deleted " + std::to_string(deleted) + " uploaded artifact(s) that no version uses");
}

std::string SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "lastgood" : p.string();
}

// A router outlives its controller (DESIGN.md section 3): one already running keeps the
// metrics address it was started with, which may not be the one asked for now.
void WarnOfOtherRouterMetrics(const std::string& home, const std::string& asked) {
  if (asked.empty()) return;
  std::ifstream file(home + "/router.admin");
  std::string serving;
  std::getline(file, serving);
  const bool off = asked == "off";
  const bool port_zero = asked.size() > 2 && asked.compare(asked.size() - 2, 2, ":0") == 0;
  if (off ? serving.empty() : (port_zero ? !serving.empty() : serving == asked)) return;
  Log("the router already running serves its metrics " +
      (serving.empty() ? std::string("nowhere") : "on " + serving) + "; --router-metrics " + asked +
      " takes effect when the router is started again");
}

}  // namespace

int LockHome(const std::string& home, std::string* holder) {
  int fd = ::open((home + "/controller.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (holder) {
      char buf[32] = {0};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      *holder = n > 0 ? std::string(buf, strnlen(buf, sizeof buf)) : "";
      while (!holder->empty() && holder->back() == '\n') holder->pop_back();
    }
    ::close(fd);
    return -1;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return fd;
}

int RunController(const ControllerOptions& options) {
  Millis audit_keep{0};
  if (!options.auditKeep.empty()) {
    auto keep = ParseDaysOrDuration(options.auditKeep);
    if (!keep.ok() || keep->count() < 3'600'000) {
      Log("--audit-keep " + options.auditKeep +
          ": give how long to keep audit rows, at least an hour, like 90d or 12h");
      return 2;
    }
    audit_keep = *keep;
  }
  uint64_t max_release = kDefaultMaxReleaseBytes;
  if (!options.maxReleaseSize.empty()) {
    auto bytes = ParseByteSize(options.maxReleaseSize);
    if (!bytes.ok()) {
      Log("--max-release-size " + options.maxReleaseSize + ": " + bytes.error().message);
      return 2;
    }
    max_release = *bytes;
  }
  uint64_t max_upload = kDefaultMaxReleaseBytes;
  if (!options.maxUploadSize.empty()) {
    auto bytes = ParseByteSize(options.maxUploadSize);
    if (!bytes.ok() || *bytes > kMaxArtifactBytes) {
      Log("--max-upload-size " + options.maxUploadSize + ": " +
          (bytes.ok() ? "give at most 4GiB, the largest artifact lastgood stores"
                      : bytes.error().message));
      return 2;
    }
    max_upload = *bytes;
  }
  std::vector<std::string> artifact_roots;
  for (const auto& root : options.artifactRoots) {
    std::error_code ec;
    auto real = std::filesystem::canonical(root, ec);
    if (ec || !std::filesystem::is_directory(real, ec)) {
      Log("--artifact-root " + root + ": not a folder (" + ec.message() + ")");
      return 2;
    }
    artifact_roots.push_back(real.string());
  }
  std::optional<gid_t> socket_group;
  if (!options.socketGroup.empty()) {
    auto gid = ResolveSocketGroup(options.socketGroup);
    if (!gid.ok()) {
      Log(gid.error().message);
      return 2;
    }
    socket_group = *gid;
  }
  namespace fs = std::filesystem;
  const std::string home = fs::absolute(ResolveHome(options.home)).lexically_normal().string();
  std::error_code ec;
  fs::create_directories(home, ec);
  fs::permissions(home, fs::perms::owner_all, ec);
  for (const char* sub : {"artifacts", "releases", "logs"})
    fs::create_directories(home + "/" + sub, ec);

  if (!options.routerMetrics.empty() && options.routerMetrics != "off") {
    if (auto e = http::ParseEndpoint(options.routerMetrics, "--router-metrics"); !e.ok()) {
      Log(e.error().message);
      return 2;
    }
  }
  std::optional<boost::asio::ip::tcp::endpoint> metrics_at;
  if (!options.metrics.empty()) {
    auto e = http::ParseEndpoint(options.metrics, "--metrics");
    if (!e.ok()) {
      Log(e.error().message);
      return 2;
    }
    metrics_at = *e;
  }
  std::string holder;
  int lock_fd = LockHome(home, &holder);
  // A controller killed just after it forked a child (an instance, a hook) leaves the lock's
  // open file to that child until it closes its descriptors and execs — moments. When the
  // controller the lock file names is gone, wait that out instead of refusing to start.
  for (int i = 0; lock_fd < 0 && i < 60 && !ControllerAlive(holder); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lock_fd = LockHome(home, &holder);
  }
  if (lock_fd < 0) {
    Log("another controller is running with home " + home + "; stop it first");
    return 3;
  }
  // Signals are taken by one thread with sigwait; block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto store = OpenSqliteStore(home + "/lastgood.db");
  if (!store.ok()) {
    Log(store.error().message);
    return 5;
  }
  // Deployed code is confined as far as this kernel and our privileges allow, and we say how.
  ConfinementOptions confine{home, {}, options.runUsers};
  if (!options.tlsKey.empty()) confine.hidden_files.push_back(fs::absolute(options.tlsKey));
  std::unique_ptr<Confinement> confinement = Confinement::Detect(confine);
  Log(std::string(confinement->kind() == Sandbox::Kind::kNone ? "WARNING: " : "") +
      "confinement of deployed code: " + confinement->Describe());
  auto target = NewLocalTarget(home + "/run/instances");
  ArtifactStore artifacts(home + "/artifacts", home + "/releases", max_release);
  ArtifactUploads uploads(home + "/artifacts");
  std::unique_ptr<RouterControl> control;
  std::unique_ptr<Routes> routes;
  std::unique_ptr<RouterProcess> router;
  if (options.router) {
    control = NewRouterControlClient(home + "/router.sock");
    router =
        std::make_unique<RouterProcess>(SelfExe(), home, control.get(), options.router_threads);
    if (!options.routerMetrics.empty())
      router->SetMetricsAddress(options.routerMetrics == "off" ? "" : options.routerMetrics);
    routes = std::make_unique<Routes>(store->get(), router.get(), Clock::Real());
    bool started = false;
    if (auto s = router->Ensure(&started); !s.ok()) {
      Log(s.error().message);
      return 5;
    }
    if (!started) WarnOfOtherRouterMetrics(home, options.routerMetrics);
  }
  // Secrets are sealed with a key beside the store, never in it (docs/secrets.md).
  SecretBox secrets(store->get(), home + "/" + kSecretKeyFileName, Clock::Real());
  // The fleet's hosts (docs/fleets.md): one ssh connection each, opened in the background;
  // the engine resumes deployments once each host has been tried.
  Fleet fleet(store->get(), SshSettings{options.sshConfig, home + "/hosts"}, SelfExe());
  fleet.Start();
  fleet.WaitForFirstContact(kFirstContactWait);
  EngineDeps deps{store->get(), target.get(),  &artifacts,
                  routes.get(), Clock::Real(), home + "/logs"};
  deps.secrets = &secrets;
  deps.confinement = confinement.get();
  deps.hosts = &fleet;
  Engine engine(deps);
  if (auto s = engine.Recover(); !s.ok()) {
    Log("recovery failed: " + s.error().message);
    return 5;
  }
  // The router kept serving its last table; tell it what the store says now.
  if (routes) {
    if (auto s = routes->Publish(); !s.ok())
      Log("publishing the routing table: " + s.error().message);
  }
  std::error_code real_ec;
  std::string real_home = std::filesystem::canonical(home, real_ec).string();
  ApiOptions api_options{home + "/lastgood.db",      &secrets, audit_keep, artifact_roots,
                         real_ec ? home : real_home, &uploads, max_upload, home + "/logs"};
  api_options.fleet = &fleet;
  Api api(&engine, store->get(), api_options);
  for (auto& route : HostRoutes(&fleet)) api.AddRoute(std::move(route));
  // The dashboard is optional: a taken port costs the page, never the controller.
  std::unique_ptr<ui::Dashboard> dashboard;
  if (options.ui != "off") {
    dashboard =
        std::make_unique<ui::Dashboard>([&api](const ApiRequest& r) { return api.Handle(r); },
                                        ui::DashboardOptions{options.ui, options.ui_assets});
    api.AddRoute(
        {"POST", "/v1/ui/logins", auth::Role::kAdmin,
         [d = dashboard.get()](const RouteCall& c) { return d->HandleLogins(c.request); }});
    if (auto s = dashboard->Start(); !s.ok()) {
      if (s.error().code == ErrorCode::kInvalidInput) {
        Log(s.error().message);
        return 2;
      }
      Log(s.error().message + "; serving without the dashboard");
    }
  }
  // GET /metrics (docs/metrics.md): on the API for a viewer, and on --metrics for anyone.
  ControllerMetrics metrics(store->get());
  api.AddRoute({"GET", "/metrics", auth::Role::kViewer,
                [&metrics](const RouteCall&) { return MetricsAnswer(metrics); }});
  http::Server metrics_server;
  if (metrics_at) {
    auto bound = ServeMetrics(&metrics_server, *metrics_at, &metrics);
    if (!bound.ok()) {
      Log(bound.error().message);
      return 5;
    }
    metrics_server.Start();
    Log("serving the controller's metrics on http://" + *bound + "/metrics (no token)");
  }
  ApiServer server(&api);
  if (auto s = server.Listen(home + "/api.sock", socket_group); !s.ok()) {
    Log(s.error().message);
    return 5;
  }
  if (!options.listen.empty()) {
    auto s = server.ListenTcp({options.listen, options.tlsCert, options.tlsKey});
    if (!s.ok()) {
      Log(s.error().message);
      return s.error().code == ErrorCode::kInvalidInput ? 2 : 5;
    }
    Log(std::string("serving the API on ") + (options.tlsCert.empty() ? "http://" : "https://") +
        server.TcpAddress() + " (bearer tokens required)");
  }
  Log("controller pid " + std::to_string(::getpid()) + " serving " + home + "/api.sock");
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    Log(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    engine.Shutdown();  // running deployments stay Running; the next start resumes them
    if (dashboard) dashboard->Stop();
    metrics_server.Stop();
    server.Stop();
  });
  std::atomic<bool> stopping{false};
  std::thread upkeep([&] {
    int64_t last_sweep = 0;
    int64_t last_log_sample = 0;
    std::map<std::string, uint64_t> log_sizes;  // SampleLogSizes's memory
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kControllerTickMillis));
      if (stopping) break;
      if (router) {
        bool started = false;
        auto s = router->Ensure(&started);
        if (!s.ok()) Log(s.error().message);
        if (started) {
          Log("the router was not running; started it again");
          if (auto p = routes->Publish(); !p.ok())
            Log("publishing the routing table: " + p.error().message);
        }
      }
      engine.Housekeep();
      int64_t now = Clock::Real()->NowMillis();
      api.Housekeep(now);
      if (now - last_log_sample >= kLogSampleMillis) {
        last_log_sample = now;
        SampleLogSizes(home + "/logs", now, &log_sizes);
      }
      if (now - last_sweep >= kUploadSweepMillis) {
        last_sweep = now;
        SweepUploads(&uploads, store->get(), now);
      }
    }
  });
  server.Run();
  signals.join();
  stopping = true;
  upkeep.join();
  target->Detach();  // instances outlive the controller
  // What pacing allowed (bench/fleet/run reads it): below the bastions' MaxStartups.
  if (int peak = fleet.PeakConnectionStarts(); peak > 0)
    Log("at most " + std::to_string(peak) + " ssh connection(s) were being opened at once");
  Log("stopped");
  ::close(lock_fd);
  return 0;
}

}  // namespace lastgood
