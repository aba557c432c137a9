// RemoteHostNode: a fleet host's node as the engine drives it (targets/hosts.h), over the
// host's ssh connection (targets/remote/ssh.h): instances and the router through the node's
// API on the forwarded socket; artifacts pushed through the ControlMaster to `lastgood node
// --receive-artifact`, which stores a file only when its digest is the one asked for.
//
// Thread-safe (the node client has no mutable state; pushes go through `push`).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "targets/hosts.h"
#include "targets/remote/node_client.h"
#include "targets/remote/ssh.h"

namespace lastgood {

// How long an artifact may take to reach a host.
inline constexpr Millis kArtifactPushTimeout{300'000};

// Runs a command on the host over its master, stdin from a file (SshLink::Run), or fails
// Unavailable when the host's connection is gone.
using HostCommand = std::function<Result<CommandResult>(
    const std::vector<std::string>& argv, const std::string& stdin_path, Millis timeout)>;

class RemoteHostNode : public HostNode {
 public:
  // `node_home` is the node's home on the host (its binary is node_home/bin/lastgood).
  RemoteHostNode(std::string host, std::shared_ptr<const NodeClient> node, std::string node_home,
                 HostCommand run);

  Target* target() override { return target_.get(); }
  RouterControl* router() override { return router_.get(); }
  ProbeResult Probe(const ProbeSpec& spec) override;
  Result<std::string> EnsureRelease(const std::string& app, int version, const std::string& digest,
                                    const std::string& name,
                                    const std::string& artifact_path) override;

 private:
  const std::string host_;
  const std::shared_ptr<const NodeClient> node_;
  const std::string node_home_;
  const HostCommand run_;
  const std::unique_ptr<Target> target_;
  const std::unique_ptr<RouterControl> router_;
};

}  // namespace lastgood
