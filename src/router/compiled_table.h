// CompiledTable: a RoutingTable turned into what the request path reads: parsed endpoints,
// slot and listener indices, stable ids for upstream pools and listeners, and pointers to
// the stats series. Immutable once built, shared by all worker threads through a
// shared_ptr<const CompiledTable>; per-thread round-robin state lives in each worker, at
// the offsets given here.
//
// StableIds hands out ids that survive table swaps (a backend address keeps its pool id, a
// listener address keeps its listener id). Only the control thread compiles tables.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/cidr.h"
#include "base/names.h"
#include "router/stats_window.h"
#include "router/table.h"

namespace lastgood {

struct CompiledBackend {
  std::string id;
  boost::asio::ip::tcp::endpoint endpoint;
  uint32_t pool = 0;                   // stable id of the address: per-thread idle connection pools
  std::shared_ptr<StatsSeries> stats;  // kept alive by the table
  // Requests the client pinned here (StatsKey::pinned); null where pinning cannot happen
  // (the production slot, or slotPinning off): those count in `stats`.
  std::shared_ptr<StatsSeries> pinned_stats;
};

struct CompiledVersion {
  int version = 0;
  std::vector<CompiledBackend> backends;
  int round_robin = 0;  // index of this version's counter in a worker's state
};

struct CompiledSlot {
  std::string name;
  std::vector<CompiledVersion> versions;
  std::vector<int> weights;  // per version
  int swrr = 0;              // offset of this slot's running values in a worker's state
};

struct CompiledApp {
  std::string name;
  std::vector<CompiledSlot> slots;
  // New clients of the production listener: slot indices and their shares; the last entry
  // is the production slot with what is left of 100. Empty: no split.
  std::vector<int> split_slots, split_weights;
  int split_swrr = 0;
  std::vector<bool> in_split;                 // by slot index: the slot takes a share of the split
  bool pinning = true;                        // RouteApp::slotPinning
  std::vector<Cidr> trusted;                  // RouteApp::trustedProxies
  int FindSlot(std::string_view name) const;  // -1 if none
};

struct ListenerRoute {
  std::string host;  // lowercase; empty matches any
  int app = 0, slot = 0;
  bool production = false;  // the listener serves the production slot: split applies
};

struct CompiledTable {
  RoutingTable source;
  std::vector<CompiledApp> apps;
  std::vector<std::vector<ListenerRoute>> routes;  // by listener id
  std::vector<int> client_limits;                  // by listener id; 0: none
  std::vector<bool> live_pools;                    // by pool id
  int swrr_size = 0, round_robin_size = 0;         // per-thread state sizes

  // The route for a Host header value on a listener, or nullptr.
  const ListenerRoute* Match(uint32_t listener, std::string_view host) const;
};

class StableIds {
 public:
  uint32_t Of(const std::string& key);  // the same id for the same key, forever
 private:
  std::map<std::string, uint32_t> ids_;
};

// REQUIRES: `table` passed TableFromJson's validation.
std::shared_ptr<const CompiledTable> CompileTable(const RoutingTable& table, StableIds& pools,
                                                  StableIds& listeners, StatsRegistry& stats);

}  // namespace lastgood
