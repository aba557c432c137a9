// Routes: the routing table as the store says it should be, sent whole to the router
// (DESIGN.md section 3: the controller only ever tells the router the whole table).
//
// Each app contributes its listeners (route.listen → production, route.preview → staging)
// from the newest version that a slot runs or a running deployment brings in, and its
// backends: every instance in state "ready", grouped by version, each version weighted by
// its number of ready instances (so every ready instance takes an equal share). Instances
// that are starting, warm (kept for keepPrevious) or draining are out of the table.
//
// Fleets (docs/fleets.md): each fleet host's router gets its own Routes, built from that
// host's instances only, for the apps that have instances there; the controller's own
// router (host "") leaves out the apps deployed to fleet hosts. A fleet view over several
// hosts' Routes publishes to each of them and answers their statistics merged
// (engine/fleet_stats.h).
//
// Thread-safe: publishes are serialized, and each carries a higher generation.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "router/control.h"
#include "router/table.h"
#include "store/store.h"

namespace lastgood {

// One of the app's route addresses and whether the router could bind it (issue 11 A5: an
// address that cannot be bound costs only that listener, and says so here).
struct ListenerView {
  std::string address, slot;
  bool bound = false;
  std::string error;
};

class Routes {
 public:
  // The router of the controller's own machine (host "") or of fleet host `host`.
  Routes(Store* store, RouterControl* router, Clock* clock, std::string host = "")
      : store_(store), router_(router), clock_(clock), host_(std::move(host)) {}
  // A fleet view: the hosts' Routes, which must outlive it.
  Routes(std::vector<Routes*> hosts, Clock* clock)
      : store_(nullptr), router_(nullptr), clock_(clock), members_(std::move(hosts)) {}

  // Builds the table from the store and sends it; returns once the router has it in force.
  Status Publish();
  // The table as the store says it should be (for tests and for `status`).
  Result<RoutingTable> Build();
  // True if the last table sent routes traffic to `app` (it has a listener).
  bool Routed(const std::string& app);
  // What the router measured over the last `window`; Unavailable without a router. A fleet
  // view asks every host at once and merges what they answer (a host that does not answer
  // is left out; Unavailable when none does).
  Result<RouterStats> Stats(Millis window);
  // The app's listeners in the last table sent, with what the router says of each; empty
  // when the router does not answer (best effort: `status` shows what it can).
  std::vector<ListenerView> Listeners(const std::string& app);
  const std::string& host() const { return host_; }

 private:
  Status NewListenersBound(const RoutingTable& table, const std::set<std::string>& before);

  Store* store_;
  RouterControl* router_;
  Clock* clock_;
  const std::string host_;
  const std::vector<Routes*> members_;  // a fleet view's hosts
  std::mutex mu_;
  uint64_t generation_ = 0;       // GUARDED_BY(mu_)
  std::set<std::string> routed_;  // GUARDED_BY(mu_): apps in the last table sent
  std::map<std::string, std::vector<RouteListener>> listeners_;  // GUARDED_BY(mu_): by app
};

}  // namespace lastgood
