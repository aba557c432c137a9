// The JSON of the node's API (docs/fleets.md, "The node's API"): instance specs, handles and
// statuses as they travel between the controller and a node. Shared by the node (which
// decodes what the controller sends, with limits on every field) and its client.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "health/probe.h"
#include "targets/target.h"

namespace lastgood {

// Limits on a spec a node accepts.
inline constexpr size_t kMaxSpecArgs = 256;
inline constexpr size_t kMaxSpecEnv = 512;
inline constexpr size_t kMaxSpecString = 64 * 1024;

// What a node reports of itself (GET /v1/node).
struct NodeInfo {
  std::string buildId;
  std::string version;  // lastgood's release ("0.10.0"), as `lastgood version` says
  std::string commit;   // the commit it was built from, "" when unknown
  std::string arch;
  int pid = 0;
  int instances = 0;
  // How the node confines deployed code (process/confinement.h): "app-users",
  // "user-namespaces" or "none", and its one sentence; "" from a node of an earlier build.
  std::string confinement, confinementDetail;
};

nlohmann::json SpecToJson(const InstanceSpec& spec);
// InvalidInput (naming the field) for a missing or mistyped field or one over its limit.
// logDir is not read: a node writes logs where it decides.
Result<InstanceSpec> SpecFromJson(const nlohmann::json& j);

nlohmann::json HandleToJson(const InstanceHandle& h);
Result<InstanceHandle> HandleFromJson(const nlohmann::json& j);

nlohmann::json InstanceStatusToJson(const InstanceStatus& s);
Result<InstanceStatus> InstanceStatusFromJson(const nlohmann::json& j);

// A readiness probe the controller asks a node to run (POST /v1/probe): http and tcp probes
// reach 127.0.0.1 on the host, exec probes run in a release directory of the node.
inline constexpr int64_t kMaxProbeTimeoutMs = 60'000;
nlohmann::json ProbeToJson(const ProbeSpec& spec);
Result<ProbeSpec> ProbeFromJson(const nlohmann::json& j);
nlohmann::json ProbeResultToJson(const ProbeResult& r);
Result<ProbeResult> ProbeResultFromJson(const nlohmann::json& j);

nlohmann::json NodeInfoToJson(const NodeInfo& info);
Result<NodeInfo> NodeInfoFromJson(const nlohmann::json& j);

}  // namespace lastgood
