// NodeClient: a node's API (docs/fleets.md) as the controller calls it, over a unix socket —
// the node's own DIR/node.sock, or the local end of the socket ssh forwards from a remote
// host. Each call is one request with a deadline; a node that does not answer is
// Unavailable, naming the socket.
//
// RemoteTarget and RemoteRouter adapt a client to the engine's Target and RouterControl
// interfaces, so the engine drives a remote host's instances and router exactly as it
// drives its own machine's.
//
// Thread-safe: no mutable state; the node serializes what must be.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "router/control.h"
#include "targets/remote/node_wire.h"
#include "targets/target.h"

namespace lastgood {

// A start may wait for the node to fork and exec; a table for the router's fsync.
inline constexpr Millis kNodeCallTimeout{15'000};

// An instance as the node reports it in GET /v1/instances.
struct NodeInstance {
  InstanceSpec spec;
  InstanceStatus status;
};

class NodeClient {
 public:
  explicit NodeClient(std::string socket_path) : socket_(std::move(socket_path)) {}

  const std::string& socket() const { return socket_; }

  Result<NodeInfo> Info(Millis timeout = kNodeCallTimeout) const;
  // Asks the node process to exit (an upgrade replaces it); its router and instances go on.
  Status StopNode() const;
  // Ensures the instance runs: one the node already runs under this id is left as it is.
  Result<InstanceHandle> Ensure(const InstanceSpec& spec) const;
  // NotFound when the node does not know the id.
  Result<InstanceStatus> InstanceState(const std::string& id) const;
  Status Stop(const std::string& id) const;
  Result<std::vector<NodeInstance>> Instances() const;

  // One readiness probe run by the node on its host (POST /v1/probe).
  Result<ProbeResult> Probe(const ProbeSpec& spec) const;

  Status ApplyTable(const RoutingTable& table) const;
  Result<RouterStats> Stats(Millis window) const;
  // The host router's health (its listeners bound or not); NotFound from a node of a build
  // without it.
  Result<RouterHealth> Health() const;

  // The output of an app's instances on the host (GET /v1/logs?QUERY, node/node_logs.h), as
  // the node answers it: {app, instances, chunks, cursor, more}.
  Result<nlohmann::json> Logs(const std::string& query) const;

  // Whether the node holds the artifact with this digest, intact.
  Result<bool> HasArtifact(const std::string& digest) const;
  // The release directory of (app, version) on the node, made from its own artifact store;
  // NotFound when the node lacks the artifact.
  Result<std::string> EnsureRelease(const std::string& app, int version, const std::string& digest,
                                    const std::string& name) const;

 private:
  Result<nlohmann::json> Call(const std::string& method, const std::string& target,
                              const std::string& body, Millis timeout = kNodeCallTimeout) const;

  const std::string socket_;
};

// The node's instances as a Target. Adopt asks the node: it re-adopts its instances itself,
// so an instance it runs under that id is returned, any other is NotFound. Detach does
// nothing: the node keeps its instances whatever the controller does. StopStrays stops what
// the node runs that this target neither started nor adopted.
std::unique_ptr<Target> NewRemoteTarget(std::shared_ptr<const NodeClient> node);
// The node's router as a RouterControl.
std::unique_ptr<RouterControl> NewRemoteRouter(std::shared_ptr<const NodeClient> node);

}  // namespace lastgood
