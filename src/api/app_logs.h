// ReadAppLogs: the answer of GET /v1/apps/{app}/logs (api/logs.cc) — the output of an app's
// instances on the controller's machine, read here, and on the fleet hosts that run it, asked
// of each host's node (node/node_logs.h) with the same query and a share of the budget.
//
// Without a host named, this machine's files and every host the records show running the app,
// side by side: a host that cannot be asked is named in `unreachable` (with why), the others'
// output is answered, and the files of the cursor keep their place so that -f goes on from
// there once the host answers again. With a host named, that host alone: not registered →
// NotFound; it runs nothing of the app → NotFound naming the hosts that do (unless a version
// or an instance is named: the output of stopped instances stays on a host); it cannot be
// asked → its error, naming it.
//
// Answer: {app, instances, chunks: [{instance, stream, text, host?}], cursor, more,
// unreachable: [{host, problem}]}; a chunk of a fleet host carries "host".
//
// Thread-safety: a function of its arguments; HostLogs implementations are thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/log_query.h"
#include "base/result.h"
#include "store/store.h"

namespace lastgood {

class Fleet;

// Where a fleet host's instances' output is asked.
class HostLogs {
 public:
  virtual ~HostLogs() = default;
  // Whether `host` is a registered fleet host.
  virtual bool Registered(const std::string& host) = 0;
  // The host's answer to GET /v1/logs?`query`; an error names the host and says why.
  virtual Result<nlohmann::json> Read(const std::string& host, const std::string& query) = 0;
};

// The fleet's nodes, over their forwarded sockets; `fleet` may be null (no host registered).
std::unique_ptr<HostLogs> FleetHostLogs(Fleet* fleet);

struct AppLogsRequest {
  std::string app;
  std::string host;  // "": this machine and every host running the app
  LogQuery query;
  std::string logsRoot;                   // this machine's "<home>/logs"
  std::vector<InstanceRecord> instances;  // the app's, on record
  std::vector<std::string> slots;         // the app's slot names, for the nodes
};

Result<nlohmann::json> ReadAppLogs(const AppLogsRequest& request, HostLogs* hosts);

}  // namespace lastgood
