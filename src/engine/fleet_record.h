// What a fleet deployment's record says of its hosts (docs/fleets.md): which hosts its plan
// acts on, in which wave, and which have failed. Read off the operations (each host step
// carries its host), so that a controller resuming the record knows as much as the one that
// wrote it. Pure functions; thread-compatible.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "history/model.h"

namespace lastgood {

// Whether `d`'s plan acts on fleet hosts.
bool IsFleet(const Deployment& d);
// The hosts `d`'s operations act on, in plan order; only those of `wave` when wave > 0.
std::vector<std::string> HostsOf(const Deployment& d, int wave = 0);
// The hosts with a failed operation, each with what that operation says.
std::map<std::string, std::string> FailedHosts(const Deployment& d);
// HostsOf(d, wave) without the failed hosts.
std::vector<std::string> WorkingHosts(const Deployment& d, int wave = 0);
// "h2: <detail>; h4: <detail>" of the failed hosts (each detail cut to its first 200 bytes).
std::string DescribeFailedHosts(const std::map<std::string, std::string>& failed);
// Where a switch host by host (a fleet swap, a bluegreen deployment) stopped: "switched: h1;
// not switched: h2, h3", in plan order; "" when no host's switch succeeded.
std::string DescribeSwitches(const Deployment& d);

}  // namespace lastgood
