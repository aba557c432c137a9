#include "engine/host_scope.h"

namespace lastgood {

bool HostReachable(const EngineDeps& deps, const std::string& name, std::string* problem) {
  if (!deps.hosts) {
    if (problem) *problem = "this controller has no fleet hosts";
    return false;
  }
  for (const auto& h : deps.hosts->Snapshot()) {
    if (h.name != name) continue;
    if (problem) *problem = h.problem;
    return h.reachable;
  }
  if (problem) *problem = "no host named " + name + " is registered (`lastgood hosts`)";
  return false;
}

Result<EngineDeps> ForHost(const EngineDeps& deps, const std::string& host) {
  if (!deps.hosts || !deps.hostRoutes)
    return Error::Unavailable("host " + host + ": this controller has no fleet hosts");
  std::string problem;
  if (!HostReachable(deps, host, &problem))
    return Error::Unavailable("host " + host + " is unreachable: " + problem);
  auto node = deps.hosts->Driver(host);
  if (!node) return Error::Unavailable("host " + host + " is not registered");
  EngineDeps out = deps;
  out.host = host;
  out.node = node;
  out.target = node->target();
  out.routes = deps.hostRoutes->For(host, node);
  // The host's node confines its instances itself (its home, uids and users, from the spec's
  // app and run.user); this machine's confinement says nothing there.
  out.confinement = nullptr;
  return out;
}

EngineDeps ForHosts(const EngineDeps& deps, const std::vector<std::string>& hosts,
                    std::unique_ptr<Routes>* view) {
  if (hosts.empty()) return deps;
  std::vector<Routes*> members;
  for (const auto& h : hosts) {
    auto scoped = ForHost(deps, h);
    if (scoped.ok() && scoped->routes) members.push_back(scoped->routes);
  }
  EngineDeps out = deps;
  *view = std::make_unique<Routes>(std::move(members), deps.clock);
  out.routes = view->get();
  return out;
}

Routes* FleetRoutes::For(const std::string& host, const std::shared_ptr<HostNode>& node) {
  std::lock_guard lock(mu_);
  Entry& e = entries_[host];
  if (e.node != node || !e.routes) {
    // A step may still hold the old one: it is kept, never freed under it.
    if (e.routes) retired_.push_back(std::move(e.routes));
    e.node = node;
    e.routes = std::make_unique<Routes>(store_, node->router(), clock_, host);
  }
  return e.routes.get();
}

}  // namespace lastgood
