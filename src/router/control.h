// RouterControl: how the controller talks to the router, over the unix control socket
// "<home>/router.sock" (mode 0600). HTTP/1.1 on that socket:
//   PUT /v1/table        body: TableToJson(table)  → 200 {"generation": N}
//   GET /v1/stats?window=10s                       → 200 StatsToJson(stats)
//   GET /v1/health                                 → 200 HealthToJson(health)
// The engine sees only this interface; tests may wrap it to inject faults.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "base/duration.h"
#include "base/result.h"
#include "router/health_report.h"
#include "router/stats.h"
#include "router/table.h"

namespace lastgood {

class RouterControl {
 public:
  virtual ~RouterControl() = default;
  // Sends the whole table; returns once the router has it in force for new requests
  // (and has persisted it).
  virtual Status Apply(const RoutingTable& table) = 0;
  // Stats over the last `window` (1-second buckets).
  virtual Result<RouterStats> Stats(Millis window) = 0;
  // Unavailable when the router does not answer.
  virtual Status Ping() = 0;
  // The table generation, the serving process and its build, the listeners' states.
  // (A default for fakes that have no router behind them.)
  virtual Result<RouterHealth> Health() { return Error::Unavailable("no router health here"); }
};

// A client of the router's control socket at `socket_path`.
std::unique_ptr<RouterControl> NewRouterControlClient(const std::string& socket_path);

}  // namespace lastgood
