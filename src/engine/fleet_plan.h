// Fleet plans (docs/fleets.md, "Fleet deployments"): a deployment of a manifest that names
// hosts runs, wave by wave, the app's strategy on each selected host. The plan is one list of
// steps, each host's steps carrying its name:
//
//   prepare the release on every host (in parallel)      host: each, wave 0
//     (not on a host that returns to warm instances: its takeWarm step checks them)
//   the preDeploy hook (on the controller)                host: none
//   wave 1: each host's steps of the strategy             host: each, wave 1
//           a canary's analyses and pauses                host: none, wave 1 (the whole wave)
//           a rolling update's analysis of the wave       host: none, wave 1
//           the wave's gate: bake                         host: none, wave 1
//   wave 2: …
//   bluegreen: each host's switch, one host at a time     host: each, a wave of its own
//              the bake of every switched host            host: none
//   hosts that run the app but are no longer selected: its instances stop
//   the postDeploy hook; finish (the slot's record)       host: none
//
// A rollback (and a reconcile) undoes the waves: the hosts that run another version first, in
// the reverse order of their switching (the newest fleet record's last wave first, each wave's
// hosts together), then those that lack the version; a host that already runs it and nothing
// else is left out. After a bluegreen deployment, whose previous production waits warm in the
// preview slot of (some) hosts, a rollback is a swap back: every host's instances in the
// preview slot confirmed (or started anew, where not all are warm), then the switches, one
// host at a time, the last switched first.
//
// PlanFleet is a pure function of what each host runs; PlanFleetFor reads that from the store.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/plan.h"

namespace lastgood {

struct FleetHostPlan {
  std::string host;
  PlanInput in;  // what this host runs now (its own instance counts); hooks and bake unused
  // A rollback after a bluegreen switch, whose previous production waits in the preview slot:
  // the host returns by the switch back. Its instances of the version in the preview slot
  // are confirmed with its node, and started there anew where they are not all warm any
  // more (in.previewInstances < in.replicas: the host's own redeploy, in the preview slot,
  // since the slots of every host are exchanged in the store at once).
  bool swapBack = false;
};

struct FleetPlanInput {
  int version = 0;
  std::string preHook, postHook;  // hook names, or ""
  Millis bake{0};                 // each wave's gate
  // A rolling update's analysis after each wave (strategy.rolling.analysis): against the
  // previous version while a host of a later wave runs it, else against the limits alone;
  // none in a first deployment (no host runs another version).
  bool waveAnalysis = false;
  std::vector<std::vector<FleetHostPlan>> waves;
  std::vector<std::string> leaving;  // hosts that run the app, not selected any more
};

std::vector<Step> PlanFleet(const FleetPlanInput& input);

// The plan of deploying `version` (manifest `m`, which names hosts) into `slot` as things
// stand now. NotFound (field "hosts") when a listed host is not registered or a selector
// matches none. With
// `only_host`, the plan acts on that host alone (a reconcile): no hook, no other host, and
// no host step at all when it runs the version already (or `m` does not select it).
Result<PlannedOperations> PlanFleetFor(const EngineDeps& deps, const std::string& app,
                                       const std::string& slot, int version, const Manifest& m,
                                       DeploymentKind kind, const std::string& only_host = "");

// The fleet hosts that run an instance of `app` (any slot, any state), in name order.
Result<std::vector<std::string>> HostsRunning(const EngineDeps& deps, const std::string& app);

// InvalidInput naming the field when fleet manifest `m` uses what does not reach fleet hosts
// yet (docs/fleets.md, "State of the work"): a bluegreen smoke test longer than a node runs
// one.
Status RefuseUnbuiltOnFleet(const Manifest& m);

// The registered hosts `m` selects now, in order (manifest/fleet.h's SelectHosts).
Result<std::vector<std::string>> SelectedHosts(const EngineDeps& deps, const Manifest& m);

}  // namespace lastgood
