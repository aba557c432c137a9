// Fleet: the hosts the controller reaches (docs/fleets.md, "Hosts"): the registry kept in the
// store, one SshLink per host with the node's socket forwarded, and the node client the
// engine drives each host through. `host add` and `host remove` are carried out here; a
// monitor thread reopens lost connections (paced, with backoff) and keeps each host's
// reachability and last answer, checking the hosts side by side (HostChecks) so that a hung
// node delays no other host's check.
//
// Thread-safe. Borrows the store, which must outlive it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "base/version.h"
#include "store/store.h"
#include "targets/hosts.h"
#include "targets/remote/host_checks.h"
#include "targets/remote/node_client.h"
#include "targets/remote/node_upgrade.h"
#include "targets/remote/ssh.h"

namespace lastgood {

// A node's answer must come quickly for the host to count as reachable.
inline constexpr Millis kNodePingTimeout{3'000};
inline constexpr Millis kReconnectMin{1'000};
inline constexpr Millis kReconnectMax{30'000};
inline constexpr Millis kFleetTick{1'000};
// Binaries being copied to hosts at once by `host add`: each copy is ~20 MB through ssh's
// encryption, and fifty at once starve the small commands of every other host add (their
// 30 s timeout passed in a 50-host run) for no gain in the total.
inline constexpr int kMaxBinaryCopies = 4;
// The node's home when `host add` names none (issue 14).
inline constexpr const char* kRootNodeHomeOnHost = "/var/lib/lastgood-node";
inline constexpr const char* kUserNodeHomeOnHost = ".local/state/lastgood-node";  // under $HOME

struct HostAddRequest {
  std::string name;
  std::string ssh;
  std::map<std::string, std::string> labels;
  std::string nodeHome;  // "" = the default for the ssh user
  bool acceptNewHostKey = false;
};

struct HostView {
  HostRecord record;
  bool reachable = false;
  BuildVersion nodeLastgood;  // the node's release, build id and commit when it last answered
  std::string problem;        // why it is unreachable ("" when reachable)
  int instances = 0;          // instances its node runs, when it last answered
  // Its router's table listeners, bound or not (with why), when its node last answered.
  std::vector<ListenerState> listeners;
  // How its node confines deployed code, as it last said (NodeInfo); "" until it has.
  std::string confinement, confinementDetail;
};

class Fleet : public Hosts {
 public:
  // `self_exe` is this lastgood binary, copied to hosts whose node runs another build.
  Fleet(Store* store, SshSettings settings, std::string self_exe);
  ~Fleet();  // stops the monitor and closes every connection; nodes keep running
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Opens a connection to every registered host (paced, in parallel) and starts the monitor.
  void Start();
  // Waits until every host registered at Start() has been tried once (reached or not), at
  // most `timeout`: a restarted controller resumes its deployments knowing which hosts answer.
  void WaitForFirstContact(Millis timeout);

  // `host add`: connects, checks the architecture, installs the controller's binary and
  // starts the node there when no node of the same build answers, then records the host.
  // InvalidInput for a bad name, destination, label or home, or another architecture;
  // Conflict for a name taken; Unavailable with ssh's words when the host cannot be reached.
  Result<HostView> Add(const HostAddRequest& request);
  // `host remove`: Conflict while the host's node runs instances, unless `drain` (then they
  // leave its router's table and are stopped first). The node itself is left running.
  Status Remove(const std::string& name, bool drain);
  // `host upgrade`: brings the node of `name` to this controller's build, its router taken
  // over and its instances re-adopted (targets/remote/node_upgrade.h). NotFound for an
  // unknown host; Conflict while another upgrade of it runs; Unavailable when it cannot be
  // reached or the upgrade failed (the message says what serves then).
  Result<NodeUpgrade> Upgrade(const std::string& name);
  Result<std::vector<HostView>> List();

  // The node of `name`, or null for an unknown host. Calls fail (Unavailable) while the
  // host is unreachable.
  std::shared_ptr<const NodeClient> Node(const std::string& name);
  // Hosts (targets/hosts.h): what the engine drives.
  std::vector<HostInfo> Snapshot() override;
  std::shared_ptr<HostNode> Driver(const std::string& name) override;

  // Most connection starts seen at once.
  int PeakConnectionStarts() const { return pacer_.peak(); }

 private:
  struct Host {
    HostRecord record;
    std::unique_ptr<SshLink> link;
    std::shared_ptr<const NodeClient> node;
    std::shared_ptr<HostNode> driver;
    bool reachable = false;
    bool connecting = false;
    bool tried = false;      // a first connection attempt has ended
    bool upgrading = false;  // its node is being replaced: the monitor leaves it alone
    BuildVersion nodeLastgood;
    std::string problem;
    int instances = 0;
    std::vector<ListenerState> listeners;
    std::string confinement, confinementDetail;
    std::chrono::steady_clock::time_point retryAt{};
    Millis backoff = kReconnectMin;
    int64_t storedSeen = 0;  // lastSeen last written to the store
  };

  // The driver of `host` (made once its node home is known).
  static std::shared_ptr<HostNode> DriverFor(const std::shared_ptr<Host>& host);
  // Opens the link of `host` and its forward.
  Status Open(Host* host);
  // Asks the node; updates reachability. REQUIRES: mu_ not held.
  void Check(const std::string& name);
  void Monitor();
  HostView ViewOf(const Host& h) const;

  Store* const store_;
  const SshSettings settings_;
  const std::string self_exe_;
  ConnectionPacer pacer_;
  ConnectionPacer copies_{kMaxBinaryCopies};  // binary copies under way (host add)

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Host>> hosts_;  // GUARDED_BY(mu_)
  int connectors_ = 0;  // GUARDED_BY(mu_): reconnections under way, each on its own thread
  std::condition_variable connectors_done_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  HostChecks checks_;  // the monitor's node checks, side by side
  std::thread monitor_;
};

}  // namespace lastgood
