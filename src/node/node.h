// Node: the agent of one host (`lastgood node --home DIR`, docs/fleets.md). It supervises the
// host's instances through a Target (the local supervisor), drives the host's router
// through a RouterControl (the router process it starts and restarts), keeps the host's
// artifacts and release directories, and remembers what it runs in DIR/node-state.json so
// that after its own restart it re-adopts its instances — and starts again those that died
// while it was away. Handle() answers the node's API; the node process serves it on
// DIR/node.sock with the controller's server code.
//
// Thread-safe. Borrows the target and the router control, which must outlive it.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "api/handlers.h"
#include "artifacts/artifact_store.h"
#include "node/node_state.h"
#include "process/confinement.h"
#include "router/control.h"
#include "targets/target.h"

namespace lastgood {

struct NodeOptions {
  std::string home;  // DIR: node-state.json, node.sock, router.sock, artifacts/, releases/, logs/
  std::string version = "dev";  // lastgood's release (base/version.h); tests leave "dev"
  // POST /v1/node/stop: called after the answer is sent; the node process then exits.
  std::function<void()> stop;
  // What the node changed on its host, one line each (node.log): an instance started, a
  // routing table put in force that serves other backends than the one before. An operator
  // reads every switch of the host there; the fleet's crash test counts them.
  std::function<void(const std::string&)> log;
  // How the host's instances are confined (docs/fleets.md, "Confinement on hosts"): each
  // app's uid, its run.user, the node's home hidden. Null: not at all (unit tests).
  Confinement* confinement = nullptr;
};

class Node {
 public:
  Node(NodeOptions options, Target* target, RouterControl* router);

  // Loads the state and re-adopts every instance in it (pid + start time), starting again
  // the ones that no longer run. Returns the lines to log (what was adopted or restarted).
  // InvalidInput when the state file cannot be read (nothing is started then).
  Result<std::vector<std::string>> Recover();

  // The node's API: one request in, one response out (docs/fleets.md, "The node's API").
  ApiResponse Handle(const ApiRequest& request);

 private:
  ApiResponse Info();
  ApiResponse ListInstances();
  ApiResponse EnsureInstance(const std::string& id, const std::string& body);
  ApiResponse InstanceState(const std::string& id);
  ApiResponse StopInstance(const std::string& id);
  ApiResponse ApplyTable(const std::string& body);
  ApiResponse Stats(const std::string& query);
  ApiResponse RouterHealthOf();
  ApiResponse HasArtifact(const std::string& digest);
  ApiResponse EnsureRelease(const std::string& body);
  ApiResponse Probe(const std::string& body);
  ApiResponse Logs(const std::string& query);  // node/node_logs.h

  // InvalidInput unless `cwd` is a release directory of this node.
  Status CheckReleaseDir(const std::string& cwd) const;
  // The sandbox of a process of `app` (its instances, its exec probes) that runs from `cwd`
  // on this host: its app's uid, or `run_user`, and state folder here; InvalidInput naming
  // run.user when this host cannot apply it. "" app: the release directory's.
  Result<Sandbox> SandboxOf(const std::string& app, const std::string& run_user,
                            const std::string& cwd, const std::string& label);

  // Constant after construction.
  const NodeOptions options_;
  Target* const target_;
  RouterControl* const router_;
  ArtifactStore artifacts_;

  std::mutex mu_;    // serializes changes of what runs, and their records
  NodeState state_;  // GUARDED_BY(mu_)

  std::mutex table_mu_;  // orders the tables put in force and their log lines
  std::string serving_;  // GUARDED_BY(table_mu_): what the table in force serves
};

}  // namespace lastgood
