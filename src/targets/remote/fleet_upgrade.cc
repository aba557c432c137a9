// Fleet::Upgrade: `lastgood host upgrade` of one host (docs/fleets.md, "Upgrading the nodes");
// the steps are node_upgrade.cc's, this is the fleet's bookkeeping around them.
#include "base/build_id.h"
#include "targets/remote/fleet.h"

namespace lastgood {

Result<NodeUpgrade> Fleet::Upgrade(const std::string& name) {
  std::shared_ptr<Host> h;
  {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(name);
    if (it == hosts_.end()) return Error::NotFound("no host named " + name);
    h = it->second;
    if (h->upgrading) return Error::Conflict("the node on " + name + " is being upgraded already");
    if (!h->reachable || !h->link->Up())
      return Error::Unavailable("host " + name + " cannot be reached" +
                                (h->problem.empty() ? "" : ": " + h->problem) +
                                "; its node was not upgraded");
    h->upgrading = true;
  }
  SshNodeHost node_host(h->link.get(), h->node.get(), &copies_);
  auto up = UpgradeNode(&node_host, name, h->record.nodeHome, NodeBinary{self_exe_, BuildId()});
  {
    std::lock_guard lock(mu_);
    h->upgrading = false;
  }
  Check(name);  // what `hosts` shows now: the node's build, whether it answers
  if (up.ok() && up->changed) {
    std::lock_guard lock(mu_);
    h->storedSeen = h->record.lastSeen;
    (void)store_->TouchHost(name, h->record.lastSeen, up->to.buildId);
  }
  return up;
}

}  // namespace lastgood
