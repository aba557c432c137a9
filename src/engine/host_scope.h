// Host scope: the engine's dependencies narrowed to one fleet host (docs/fleets.md). A step
// of a fleet deployment that acts on host h3 runs with ForHost(deps, "h3"): its `target` is
// h3's node, its `routes` publish h3's routing table to h3's router, its `node` makes release
// directories and runs readiness probes there, and its `host` says which instance records
// are h3's. Everything written for the controller's own machine then works on h3 unchanged.
//
// FleetRoutes keeps one Routes per fleet host (each with its own table generations).
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/routes.h"

namespace lastgood {

// The deps of fleet host `host`. Unavailable — naming the host and saying why (ssh's own
// words) — when it is not registered, or not reachable now.
Result<EngineDeps> ForHost(const EngineDeps& deps, const std::string& host);

// The Routes of a fleet view over `hosts` (their statistics merged, a publish sent to each),
// or of the controller's machine when `hosts` is empty. Hosts that cannot be reached now are
// left out. `view` keeps the object the returned deps point to; it must outlive them.
EngineDeps ForHosts(const EngineDeps& deps, const std::vector<std::string>& hosts,
                    std::unique_ptr<Routes>* view);

// Whether the fleet host `name` is registered and reachable now, and why not.
bool HostReachable(const EngineDeps& deps, const std::string& name, std::string* problem);

class FleetRoutes {
 public:
  FleetRoutes(Store* store, Clock* clock) : store_(store), clock_(clock) {}
  // The Routes of `host`, whose router is `node`'s; made on first use, and again when the
  // host's node object changed (the host was removed and added again).
  Routes* For(const std::string& host, const std::shared_ptr<HostNode>& node);

 private:
  struct Entry {
    std::shared_ptr<HostNode> node;
    std::unique_ptr<Routes> routes;
  };
  Store* const store_;
  Clock* const clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;          // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Routes>> retired_;  // GUARDED_BY(mu_)
};

}  // namespace lastgood
