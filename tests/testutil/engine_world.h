// EngineWorld: everything an Engine drives, with fakes at every seam — a real SQLite store
// behind a FaultStore, a FakeTarget, a FakeClock, a FakeRouter behind real Routes, a real
// artifact store — in a temporary directory, so that the engine's unit tests run whole
// deployments in milliseconds with no process, no socket and no wall-clock wait.
//
// The world outlives its engines, as instances and the store outlive a controller:
// Restart() (or Crash() then Start()) makes a new Engine over the same world and recovers.
//
// Thread-safety: driven by the test's thread; the engine's threads use the fakes, which
// are thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "engine/engine.h"
#include "engine/routes.h"
#include "history/model.h"
#include "secrets/secret_box.h"
#include "store/store.h"
#include "testutil/fake_clock.h"
#include "testutil/fake_hosts.h"
#include "testutil/fake_router.h"
#include "testutil/fake_target.h"
#include "testutil/fault_store.h"
#include "testutil/temp_dir.h"
#include "testutil/wait.h"

namespace lastgood::testutil {

// A manifest for app `web` whose versions differ by `label`; no readiness probe (a
// FakeTarget's instance is ready when alive), routed at 127.0.0.1:18080.
inline std::string WorldManifest(const std::string& strategy_yaml, const std::string& extra = "") {
  return "app: web\n"
         "parameters:\n  label: { default: v1 }\n"
         "run:\n  command: [./web, --label, '${params.label}']\n"
         "replicas: 2\n"
         "route: { listen: 127.0.0.1:18080 }\n"
         "progressDeadline: 10s\n" +
         strategy_yaml + extra;
}

class EngineWorld {
 public:
  // How long a test waits, in real time, for what the engine does in fake time.
  static constexpr std::chrono::milliseconds kRealDeadline{20'000};

  EngineWorld() : dir_("lg-engine", TempDir::kInMemory) {
    auto opened = OpenSqliteStore(dir_ / "lastgood.db");
    if (!opened.ok()) throw std::runtime_error(opened.error().message);
    sqlite_ = std::move(*opened);
    store_ = std::make_unique<FaultStore>(sqlite_.get());
    routes_ = std::make_unique<Routes>(store_.get(), &router_, &clock_);
    artifacts_ = std::make_unique<ArtifactStore>(dir_ / "artifacts", dir_ / "releases");
    secrets_ = std::make_unique<SecretBox>(store_.get(), dir_ / "secrets.key", &clock_);
    Start();
  }
  ~EngineWorld() { engine_.reset(); }

  Engine& engine() { return *engine_; }
  FaultStore& store() { return *store_; }
  Store& sqlite() { return *sqlite_; }  // the store under the faults
  FakeTarget& target() { return target_; }
  FakeClock& clock() { return clock_; }
  FakeRouter& router() { return router_; }
  ArtifactStore& artifacts() { return *artifacts_; }
  // What answers an analysis' Prometheus queries (by the query as asked, placeholders filled
  // in); set before the apply whose analysis asks. None: every ask fails as unreachable.
  void SetPrometheus(PrometheusAsk ask) { prometheus_ = std::move(ask); }
  FakeHosts& hosts() { return hosts_; }
  // The app's secrets, sealed in the store as `lastgood secret set` does.
  SecretBox& secrets() { return *secrets_; }

  // A fleet host, registered in the store (as `host add` does) and reachable.
  void AddHost(const std::string& name, std::map<std::string, std::string> labels = {}) {
    hosts_.Add(name, labels);
    HostRecord rec{name, "fake@" + name, labels, "/node/" + name, "fake", 1, 1};
    auto added = sqlite_->AddHost(rec);
    ASSERT_TRUE(added.ok()) << added.error().message;
  }

  // A controller starts: a new engine recovers what the store holds, and the router is told
  // the table the store says (as `lastgood serve` does).
  void Start() {
    EngineDeps deps;
    deps.store = store_.get();
    deps.target = &target_;
    deps.artifacts = artifacts_.get();
    deps.routes = routes_.get();
    deps.clock = &clock_;
    deps.logDir = dir_ / "logs";
    deps.prometheus = [this](const std::string& query) -> Result<PrometheusAnswer> {
      if (!prometheus_) return Error::Unavailable("no Prometheus in this world");
      return prometheus_(query);
    };
    deps.hosts = &hosts_;
    deps.secrets = secrets_.get();
    target_.NewController();
    hosts_.NewController();
    engine_ = std::make_unique<Engine>(deps);
    auto recovered = engine_->Recover();
    ASSERT_TRUE(recovered.ok()) << recovered.error().message;
    (void)routes_->Publish();
  }
  // The controller stops (its workers at their next check point); records stay as they are.
  void Stop() { engine_.reset(); }
  void Restart() {
    Stop();
    Start();
  }
  // The controller dies right after the n-th commit from now: later commits never happen,
  // and it can no longer change instances or the router. Returns once it has "died" and its
  // threads are gone; the world then runs again with no fault, for Start().
  void CrashAfter(int commits) {
    store_->CrashAfter(commits, [this] {
      target_.Freeze();
      hosts_.Freeze();
      router_.SetDown(true);
    });
  }
  bool Crashed() const { return store_->Refused() > 0; }
  void CleanUpAfterCrash() {
    Stop();
    store_->Heal();
    target_.Thaw();
    hosts_.Thaw();
    router_.SetDown(false);
  }

  Result<Outcome> Apply(const std::string& manifest, const std::string& label,
                        const std::string& slot = kProductionSlot) {
    ApplyRequest req;
    req.manifest = manifest;
    req.manifestDir = dir_.path();
    req.params = {{"label", label}};
    req.slot = slot;
    req.actor = "test";
    return engine_->Apply(req);
  }

  // The deployment record, as stored now.
  Deployment Record(const std::string& name) {
    auto d = sqlite_->GetDeployment("web", name);
    EXPECT_TRUE(d.ok()) << name << ": " << (d.ok() ? "" : d.error().message);
    return d.ok() ? *d : Deployment{};
  }
  // Waits (real time, bounded) until `name` has ended and no deployment of the app runs.
  Deployment WaitSettled(const std::string& name) {
    bool settled = WaitUntil(
        [&] {
          auto running = sqlite_->RunningDeployments();
          auto d = sqlite_->GetDeployment("web", name);
          return running.ok() && running->empty() && d.ok() && IsFinal(d->state);
        },
        kRealDeadline, std::chrono::milliseconds(1));
    EXPECT_TRUE(settled) << name << " did not end within " << kRealDeadline.count() << " ms";
    return Record(name);
  }
  // Waits until the running deployment `name` is at an operation whose step starts with
  // `step` ("pause", "analyse", …), in state Running.
  bool WaitAtStep(const std::string& name, const std::string& step) {
    return WaitUntil(
        [&] {
          auto d = sqlite_->GetDeployment("web", name);
          if (!d.ok() || d->cursor >= static_cast<int>(d->operations.size())) return false;
          const Operation& op = d->operations[d->cursor];
          return op.state == OperationState::kRunning && op.step.rfind(step, 0) == 0;
        },
        kRealDeadline, std::chrono::milliseconds(1));
  }

  int SlotVersion(const std::string& slot = "production") {
    auto slots = sqlite_->ListSlots("web");
    if (!slots.ok()) return -1;
    for (const auto& s : *slots) {
      if (s.slot == slot) return s.version;
    }
    return 0;
  }
  std::optional<SlotRecord> Slot(const std::string& slot = "production") {
    auto slots = sqlite_->ListSlots("web");
    if (!slots.ok()) return std::nullopt;
    for (const auto& s : *slots) {
      if (s.slot == slot) return s;
    }
    return std::nullopt;
  }
  Verdict VerdictOf(int version) {
    auto v = sqlite_->GetVersion("web", version);
    return v.ok() ? v->verdict : Verdict::kUntested;
  }
  // Instances on record in `slot`, by version: {version → count}, of those not on their way
  // out (draining) and not kept warm.
  std::map<int, int> LiveOnRecord(const std::string& slot = "production") {
    std::map<int, int> out;
    auto all = sqlite_->ListInstances("web");
    if (!all.ok()) return out;
    for (const auto& i : *all) {
      if (i.slot == slot && i.state != InstanceState::kDraining && i.state != InstanceState::kWarm)
        ++out[i.version];
    }
    return out;
  }
  // Every instance on record runs (the target has it alive), and nothing runs off the record.
  bool RecordsAreAlive() {
    auto all = sqlite_->ListInstances("web");
    if (!all.ok()) return false;
    std::set<std::string> recorded;
    for (const auto& i : *all) recorded.insert(i.id);
    return recorded == target_.Alive();
  }
  // Versions the router sends `slot`'s new requests to now.
  std::set<int> Routed(const std::string& slot = "production") {
    std::set<int> out;
    auto table = router_.Table();
    if (!table) return out;
    for (const auto& app : table->apps) {
      if (app.name != "web") continue;
      for (const auto& s : app.slots) {
        if (s.name != slot) continue;
        for (const auto& v : s.versions) {
          if (v.weight > 0 && !v.backends.empty()) out.insert(v.version);
        }
      }
    }
    return out;
  }

 private:
  TempDir dir_;
  std::unique_ptr<Store> sqlite_;
  std::unique_ptr<FaultStore> store_;
  FakeTarget target_;
  FakeClock clock_;
  FakeRouter router_;
  FakeHosts hosts_;
  std::unique_ptr<Routes> routes_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<SecretBox> secrets_;
  PrometheusAsk prometheus_;  // set before the engine asks (see SetPrometheus)
  std::unique_ptr<Engine> engine_;
};

}  // namespace lastgood::testutil
