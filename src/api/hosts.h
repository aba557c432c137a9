// The fleet's routes (issue 14), mounted at /v1/hosts by the controller:
//
//   GET    /v1/hosts                 [{"name","ssh","labels","reachable","nodeVersion",
//                                      "node","lastSeen","nodeHome","instances","apps",
//                                      "problem"?}]; apps: the apps the record shows there
//                                    node: {"version","buildId","commit"} of the node's
//                                    lastgood (as `lastgood version -o json`); nodeVersion
//                                    its version; listeners: [{"address","bound","error"?}]
//                                    of its router
//   POST   /v1/hosts                 {name, ssh, labels, nodeHome, acceptNewHostKey}
//                                    → the host as listed; runs `host add` (docs/fleets.md)
//   POST   /v1/hosts/{host}/upgrade  `host upgrade`: the node brought to the controller's
//                                    build (docs/fleets.md, "Upgrading the nodes") →
//                                    {"name","changed","copied","from","to","routerBuildId",
//                                    "installMillis","nodeAwayMillis"};
//                                    Conflict while a deployment acts on the host
//   DELETE /v1/hosts/{host}?drain=1  `host remove`
//
// Added to the Api's table (api/route.h) by the controller; access and audit are the Api's,
// as for every route (GET: viewer; others: admin).
// Thread-safe (the Fleet is).
#pragma once

#include <vector>

#include "api/route.h"
#include "history/model.h"
#include "targets/remote/fleet.h"

namespace lastgood {

// The routes above, served by `fleet` (which must outlive them).
std::vector<ApiRoute> HostRoutes(Fleet* fleet);

// Conflict while one of the `running` deployments acts on `host` (an operation of it names
// the host): its steps would meet a node that is away while it is replaced.
Status RefuseNodeUpgradeDuring(const std::vector<Deployment>& running, const std::string& host);

}  // namespace lastgood
