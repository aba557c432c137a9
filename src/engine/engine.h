// Engine: carries out deployments. It turns a user's intent (apply, rollback,
// rollforward, promote) into a version and a planned deployment, commits them, and runs the
// plan's steps on a worker thread per app, committing each step's state before and after
// it runs. A failed deployment is rolled back by itself as its policy says.
//
// Thread-safe. Owns its worker threads; borrows everything in EngineDeps, which must
// outlive it. Only one deployment per app runs at a time; a rollback cancels the running
// one (DESIGN.md section 4).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "artifacts/artifact_store.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/names.h"
#include "base/result.h"
#include "engine/analysis_prometheus.h"
#include "engine/plan.h"
#include "engine/routes.h"
#include "history/model.h"
#include "router/stats.h"
#include "store/store.h"
#include "targets/hosts.h"
#include "targets/target.h"

namespace lastgood {

class Routes;
class FleetRoutes;
class Drainer;
class Notifier;
class CommitWatch;
class SecretBox;
class Confinement;

struct EngineDeps {
  Store* store = nullptr;
  Target* target = nullptr;
  ArtifactStore* artifacts = nullptr;
  Routes* routes = nullptr;  // may be null: instances are then reached on their own ports
  Clock* clock = nullptr;
  std::string logDir;  // "<home>/logs"
  // How deployed code is confined (process/confinement.h); null: not at all (engine tests).
  Confinement* confinement = nullptr;
  Drainer* drainer = nullptr;    // set by the Engine to its own
  Notifier* notifier = nullptr;  // set by the Engine to its own
  // Set by the Engine: `store`, wrapped so that a deployment learns of its failed commits.
  CommitWatch* commits = nullptr;
  SecretBox* secrets = nullptr;  // may be null: a manifest that refers to a secret is refused
  // Asks an analysis' Prometheus queries; empty: the address the manifest names (engine tests:
  // a fake).
  PrometheusAsk prometheus = {};
  // The fleet's hosts (docs/fleets.md); null: this machine only, and manifests naming hosts
  // are refused.
  Hosts* hosts = nullptr;
  FleetRoutes* hostRoutes = nullptr;  // set by the Engine: one Routes per fleet host
  // The host these deps act on: "" is the controller's own machine; otherwise `target` and
  // `routes` are that fleet host's, and `node` its node (engine/host_scope.h, ForHost).
  std::string host{};
  std::shared_ptr<HostNode> node{};
};

struct ApplyRequest {
  std::string manifest;     // YAML text
  std::string manifestDir;  // absolute folder of the manifest file (artifact paths are relative)
  std::map<std::string, std::string> params;
  std::string name;  // deployment name, or empty to generate
  std::string slot = kProductionSlot;
  bool whatIf = false;
  std::optional<std::string> rollbackOnError;  // overrides the manifest's rollback.onError
  std::string actor;
  // Over TCP (or with a token on the unix socket): run.artifact names a file of the caller's
  // machine, which the controller cannot read; the caller sends it first (PUT
  // /v1/artifacts/{digest}) and names it by `artifactDigest`. Only with `artifactOnServer`
  // does run.artifact name a file on the controller's host (absolute, and for a caller below
  // admin only under `serve --artifact-root`: docs/security.md, one rule).
  bool remote = false;
  std::string artifactDigest;  // "sha256:<hex>" of the artifact the caller sent, or ""
  bool artifactOnServer = false;
  // Who may name which artifact (issue 11 B4), asked about the file actually opened before
  // anything is stored; empty: any file the controller can read.
  ArtifactCheck artifactAllowed;
};

struct RollRequest {  // rollback and rollforward
  std::string app;
  std::optional<int> to;
  bool force = false;
  bool whatIf = false;
  std::string slot = kProductionSlot;
  std::string actor;
};

struct PromoteRequest {
  std::string app;
  int version = 0;
  bool whatIf = false;
  std::string actor;
};

struct SwapRequest {
  std::string app;
  std::string source = "staging";
  std::string target = kProductionSlot;
  std::string phase = "swap";  // "swap" | "preview" | "complete" | "cancel"
  bool whatIf = false;
  std::string actor;
};

struct TrafficRequest {  // `lastgood traffic web staging=10`
  std::string app;
  std::map<std::string, int> shares;  // slot → share of production's new clients, 0..100
  bool whatIf = false;
  std::string actor;
};

// pause, resume, abort: what the user tells the running deployment of `app`.
struct ControlRequest {
  std::string app;
  std::string action;  // "pause" | "resume" | "abort"
  bool whatIf = false;
  std::string actor;
};

// A deployment's plan as the operations its record stores.
struct PlannedOperations {
  std::string strategy;
  std::vector<Operation> operations;
};

// What an intent led to.
struct Outcome {
  std::string app;
  bool noop = false;        // nothing to do; `message` says why
  bool whatIf = false;      // nothing was changed; `plan` and `diff` say what would be
  bool newVersion = false;  // a version was created
  int version = 0;
  int fromVersion = 0;
  std::string deployment;  // the deployment started (empty for noop / what-if)
  std::string kind;
  std::string strategy;
  std::string slot;
  std::string message;
  std::vector<std::string> plan;  // the steps, described
  std::string diff;               // unified diff of the manifests (from → to)
};

struct InstanceView {
  std::string id;
  std::string host;  // the fleet host it runs on, "" for the controller's machine
  int version = 0;
  std::string address;  // "127.0.0.1:PORT"
  std::string state;    // InstanceStateName(), or "exited" when its process is gone
  int pid = 0;
  int restarts = 0;
};

// What one fleet host runs in a slot (status, "hosts").
struct HostSlotView {
  std::string name;
  bool reachable = false;
  int version = 0;  // the version its ready instances run (the newest, with two), 0: none
  std::string problem;
  // The slot's route addresses on this host's router, bound or not (with why); empty while
  // the host cannot be asked.
  std::vector<ListenerView> listeners;
};

struct SlotView {
  std::string name;
  std::vector<HostSlotView> hosts;  // a fleet app's hosts (the selected, and any running it)
  int version = 0;
  int weight = 100;
  std::vector<InstanceView> instances;
  int canaryVersion = 0;    // a canary in this slot, or 0
  int canaryWeight = 0;     // its share of the slot's requests
  std::string swapPending;  // the source slot of a swap in preview, or ""
};

// The analysis that judges the running deployment: the one it runs now (active), else the
// next one in its plan; with no deployment running, the first one production's manifest has.
struct AnalysisView {
  std::string step;  // the step, described ("analyse canary v3 against stable"), or ""
  bool active = false;
  Analysis spec;           // window, minRequests and limits (maxErrorRate defaulted)
  std::string lastWindow;  // active: the numbers measured in the window so far
};

// How the app's processes are confined (process/confinement.h), as `status` shows it.
struct ConfinementView {
  std::string mode;    // "app-users" | "user-namespaces" | "none"
  std::string detail;  // one sentence; for "none", why
  std::string runsAs;  // "uid 412345", "www-data" (run.user), or the controller's user
};

struct AppStatus {
  std::string app;
  ConfinementView confinement;
  std::vector<SlotView> slots;
  std::optional<Deployment> running;  // with operations
  std::optional<int> lastGood;
  std::optional<AnalysisView> analysis;
  std::vector<ListenerView> listeners;  // empty without a router, or when it does not answer
};

class Engine {
 public:
  explicit Engine(EngineDeps deps);
  ~Engine();  // stops the workers at their next check point; records stay as they are
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Result<Outcome> Apply(const ApplyRequest& request);
  Result<Outcome> Rollback(const RollRequest& request);
  Result<Outcome> Rollforward(const RollRequest& request);
  Result<Outcome> Promote(const PromoteRequest& request);
  // Slots (issue 4): a swap is a recorded deployment; traffic shares and pause, resume and
  // abort change what routes or what runs at once.
  Result<Outcome> Swap(const SwapRequest& request);
  Result<Outcome> SetTraffic(const TrafficRequest& request);
  Result<Outcome> Control(const ControlRequest& request);

  Result<AppStatus> StatusOf(const std::string& app);
  // The router's measurements of the app's traffic over the last `window`, one aggregate
  // row per slot and version (per-backend rows left out).
  Result<RouterStats> Traffic(const std::string& app, Millis window);

  // Unified diff of two versions' manifests.
  Result<std::string> Diff(const std::string& app, int a, int b);

  // The automatic rollback that followed deployment `name`, if any.
  std::optional<std::string> FollowUp(const std::string& app, const std::string& name);

  // After a restart: re-adopts instances and resumes every deployment left Running.
  Status Recover();

  // A counter bumped whenever a deployment record changes; WaitForChange blocks until it
  // passes `seen` or the timeout ends, and returns its value. Lets clients long-poll.
  uint64_t ChangeSeq() const { return change_seq_.load(); }
  uint64_t WaitForChange(uint64_t seen, Millis timeout);

  // Periodic upkeep, for apps with no running deployment: stops warm instances whose
  // keepPrevious window has ended, and starts a reconcile of a fleet host that is back after
  // being unreachable (engine/reconcile.cc). Called by the controller about once a second.
  void Housekeep();

  // Stops the workers at their next check point without changing any record; the
  // deployments they ran stay Running and are resumed by Recover() after a restart.
  void Shutdown();

 private:
  // The thread that runs an app's deployments, one at a time.
  struct Worker {
    std::thread thread;
    std::atomic<bool> cancel{false};  // a rollback preempts what runs
    std::atomic<bool> done{false};
    std::string deployment;
  };
  // A deployment ready to be created, and the outcome to report once it is.
  struct Prepared {
    Deployment deployment;
    Outcome outcome;
    std::optional<PlannedOperations> operations;  // a swap's; otherwise planned at start
    // When the intent reached the engine (for a warm rollback's timings).
    std::chrono::steady_clock::time_point received{};
  };

  Result<Outcome> StartDeployment(Prepared p, bool preempt) EXCLUDES(mu_);
  // `note`: what the start did of the first step already (a warm rollback's switch).
  void RunWorkerBody(Worker* w, const std::string& app, const std::string& name,
                     const std::string& note) EXCLUDES(mu_);
  // A rollback to warm instances: the instance records of its switch, with `d`'s first
  // operation marked Running; empty when `d` does not begin with one that can be made now.
  std::vector<InstanceRecord> WarmSwitchNow(Deployment& d);
  void Notify() EXCLUDES(mu_);
  // Reconcile (docs/fleets.md): which fleet hosts came back since the last call, and the
  // reconcile deployments of `app` on those of them that do not run its production version.
  void NoteReturnedHosts() EXCLUDES(hosts_mu_);
  // The start-up sweep (Recover) of a fleet host that could not be done then (the host was
  // unreachable, or one of its records could not be settled), once the host answers and no
  // deployment runs: its records' instances adopted, then what its node runs that no record
  // shows stopped (engine/recover.cc).
  void SweepReturnedHosts() EXCLUDES(hosts_mu_, mu_);
  void ReconcileReturned(const std::string& app) EXCLUDES(hosts_mu_, mu_);

  EngineDeps deps_;
  std::unique_ptr<CommitWatch> commits_;  // deps_.store once constructed
  std::unique_ptr<Drainer> drainer_;      // declared after deps_: destroyed (drains waited) first
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<FleetRoutes> host_routes_;
  std::atomic<uint64_t> change_seq_{0};
  std::atomic<bool> stopping_{false};

  Mutex mu_;  // guards workers_ and the start of deployments (one per app)
  CondVar changed_;
  std::map<std::string, std::unique_ptr<Worker>> workers_ GUARDED_BY(mu_);  // by app

  Mutex hosts_mu_;
  // Fleet hosts seen unreachable (all of them until first seen, so that a host which was cut
  // off while the controller was down is checked once too), and (app, host) pairs of hosts
  // back since, to reconcile once the app has no running deployment.
  std::set<std::string> unreachable_ GUARDED_BY(hosts_mu_);
  bool hosts_seen_ GUARDED_BY(hosts_mu_) = false;
  std::set<std::pair<std::string, std::string>> returned_ GUARDED_BY(hosts_mu_);
  // Fleet hosts whose start-up sweep is still to be done (SweepReturnedHosts).
  std::set<std::string> unswept_ GUARDED_BY(hosts_mu_);
};

}  // namespace lastgood
