// Installing and upgrading the node of a fleet host (docs/fleets.md, "Upgrading the nodes").
//
// The controller's binary goes to DIR/bin/lastgood-BUILD on the host (addressed by its build
// id, a hash of its contents: a file there that runs and says it is that build is not sent
// again), is run once there (`version -o json` must name the controller's build) before
// anything is stopped, and
// DIR/bin/lastgood, a symlink, names the build the node runs. An upgrade then replaces the
// node process: the old node is asked to exit (its router and instances go on serving), the
// new one is started from the new file; at its start it hands the host's router over to its
// own build with the router's socket take-over (`lastgood router --take-over`: the listening
// sockets pass to the new worker, no connection is refused) and re-adopts the instances
// from DIR/node-state.json. When the new node does not start, the old one is started again
// from its own file and the error says why; DIR/bin/lastgood moves only once the new node
// serves.
//
// NodeHost is the seam: the node's API and commands run on the host. Fleet gives the real
// one (an ssh master and the forwarded node socket); tests give a scripted one.
//
// Not thread-safe: one upgrade of a host at a time (Fleet makes sure of it).
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "base/version.h"
#include "router/health_report.h"
#include "targets/remote/node_client.h"
#include "targets/remote/node_wire.h"
#include "targets/remote/ssh.h"

namespace lastgood {

// How long a copy of the binary may take, and a command on the host.
inline constexpr Millis kBinaryCopyTimeout{300'000};
inline constexpr Millis kHostCommandTimeout{30'000};
// How long an old node may take to exit (its lock released) once asked to.
inline constexpr Millis kNodeExitWait{10'000};

class NodeHost {
 public:
  virtual ~NodeHost() = default;
  // The node's GET /v1/node; Unavailable when no node answers.
  virtual Result<NodeInfo> Info() = 0;
  // The node's GET /v1/router/health.
  virtual Result<RouterHealth> RouterHealthOf() = 0;
  // POST /v1/node/stop: the node process exits; its router and instances go on.
  virtual Status StopNode() = 0;
  // Runs argv on the host, stdin from `stdin_path` ("" = nothing).
  virtual CommandResult Run(const std::vector<std::string>& argv, const std::string& stdin_path,
                            Millis timeout) = 0;
  // Waits `d` (tests do not).
  virtual void Sleep(Millis d) = 0;
};

// The real one: a host's ssh master and its node's forwarded socket, both borrowed. Copies
// of the binary (a command with stdin) wait their turn at `copies` when given.
class SshNodeHost : public NodeHost {
 public:
  SshNodeHost(SshLink* link, const NodeClient* node, ConnectionPacer* copies = nullptr)
      : link_(link), node_(node), copies_(copies) {}
  Result<NodeInfo> Info() override;
  Result<RouterHealth> RouterHealthOf() override;
  Status StopNode() override;
  CommandResult Run(const std::vector<std::string>& argv, const std::string& stdin_path,
                    Millis timeout) override;
  void Sleep(Millis d) override;

 private:
  SshLink* const link_;
  const NodeClient* const node_;
  ConnectionPacer* const copies_;
};

// What the controller sends and expects.
struct NodeBinary {
  std::string path;  // the controller's own binary, to copy
  std::string buildId;
};

struct NodeUpgrade {
  std::string host;
  BuildVersion from;        // the node's lastgood before
  BuildVersion to;          // after (from == to: nothing was done)
  std::string routerBuild;  // the build the host's router runs after
  bool changed = false;
  bool copied = false;  // the binary was sent (false: the host had it)
  Millis install{0};    // sending (if need be) and checking the binary; nothing stopped yet
  Millis nodeAway{0};   // from the old node's stop to the new one's answer: no node API then
};

// "DIR/bin/lastgood-BUILD", the build id made safe for a file name.
std::string NodeBinaryPath(const std::string& node_home, const std::string& build_id);

// Puts `binary` at its path under `node_home` unless the file there already runs as that
// build, and checks that it runs there and is `binary.buildId`. Sets `*copied`. Unavailable with
// the host's words otherwise.
Status InstallNodeBinary(NodeHost* host, const std::string& name, const std::string& node_home,
                         const NodeBinary& binary, bool* copied);

// Starts the installed node (`--detach`: returns once it serves) and points DIR/bin/lastgood
// at it. For a host where no node answers.
Status StartNode(NodeHost* host, const std::string& name, const std::string& node_home,
                 const std::string& build_id);

// Brings the node of host `name` to `binary`'s build as the header says. A node already of
// that build is left alone (changed = false). Errors: Unavailable when the host or its node
// cannot be reached, the binary cannot be installed or does not run (nothing was stopped),
// the new node did not start (the old one serves again; the message says so, or that it
// could not be started again either), or the host's router did not move to the new build
// (the new node serves; its router of the old build serves on).
Result<NodeUpgrade> UpgradeNode(NodeHost* host, const std::string& name,
                                const std::string& node_home, const NodeBinary& binary);

}  // namespace lastgood
