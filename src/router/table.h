// RoutingTable: everything the router needs to route, sent whole by the controller
// (DESIGN.md section 3). listeners (address, optional Host) → app → slots → versions
// (weights) → backends. A plain value; the router swaps a shared_ptr<const RoutingTable>
// in atomically, so the request path takes no lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace lastgood {

struct RouteBackend {
  std::string id;       // the instance id
  std::string address;  // "127.0.0.1:40123"
  bool operator==(const RouteBackend&) const = default;
};

// The backends of one version in a slot, and the share of the slot's requests they get.
struct RouteVersion {
  int version = 0;
  int weight = 0;  // relative weight among the slot's versions; 0 gets no new requests
  std::vector<RouteBackend> backends;
  bool operator==(const RouteVersion&) const = default;
};

struct RouteSlot {
  std::string name;  // "production", "staging", …
  std::vector<RouteVersion> versions;
  bool operator==(const RouteSlot&) const = default;
};

struct RouteApp {
  std::string name;
  std::vector<RouteSlot> slots;
  // Share (0..100) of the production listener's new clients sent to another slot, pinned
  // by the lastgood-slot cookie (issue 4, App Service's "traffic %"). Empty: none.
  std::map<std::string, int> split;
  // Whether a client may choose a slot itself (X-Lastgood-Slot, ?lastgood-slot=, or a
  // lastgood-slot cookie naming a slot outside the split). Off: only the listener and the
  // split decide (manifest route.slotPinning).
  bool slotPinning = true;
  // Peers whose X-Forwarded-* headers are believed and extended rather than replaced
  // (manifest route.trustedProxies): CIDR strings, validated.
  std::vector<std::string> trustedProxies;
  bool operator==(const RouteApp&) const = default;
};

struct RouteListener {
  std::string address;  // "127.0.0.1:8080"
  std::string host;     // optional Host header match; empty matches any
  std::string app;
  std::string slot;  // the slot this listener serves ("production" for route.listen)
  // Open connections allowed from one client address on this listener address; 0: no
  // limit (manifest route.maxConnectionsPerClient). Entries sharing an address: the
  // smallest non-zero limit applies.
  int maxConnectionsPerClient = 0;
  bool operator==(const RouteListener&) const = default;
};

struct RoutingTable {
  uint64_t generation = 0;  // increases with every table the controller sends
  std::vector<RouteListener> listeners;
  std::vector<RouteApp> apps;
  bool operator==(const RoutingTable&) const = default;
};

std::string TableToJson(const RoutingTable& table);
// Validates as well: addresses parse, names are plain, weights are 0..100, a listener's
// app and slot exist. Errors name the field path.
Result<RoutingTable> TableFromJson(const std::string& json);

}  // namespace lastgood
