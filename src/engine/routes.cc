#include "engine/routes.h"

#include <algorithm>
#include <map>
#include <thread>

#include "engine/fleet_stats.h"
#include "engine/plan.h"
#include "engine/release.h"
#include "manifest/parser.h"

namespace lastgood {

Result<RoutingTable> Routes::Build() {
  RoutingTable table;
  auto apps = store_->ListApps();
  if (!apps.ok()) return apps.error();
  auto running = store_->RunningDeployments();
  if (!running.ok()) return running.error();
  for (const auto& app : *apps) {
    auto slots = store_->ListSlots(app.name);
    if (!slots.ok()) return slots.error();
    // The route comes from the newest version in play, so that a release that moves its
    // listener takes effect with that release.
    int route_version = 0;
    for (const auto& s : *slots) route_version = std::max(route_version, s.version);
    for (const auto& d : *running) {
      if (d.app == app.name) route_version = std::max(route_version, d.version);
    }
    if (route_version == 0) continue;
    auto instances = store_->ListInstances(app.name);
    if (!instances.ok()) return instances.error();
    // A fleet host serves the apps that have instances there (in any state: a host whose
    // instances are all warm or starting answers 503 on the app's address, as one machine
    // does); the controller's own router, the apps that run here.
    bool here = false;
    for (const auto& i : *instances) here = here || i.host == host_;
    if (!host_.empty() && !here) continue;
    auto version = store_->GetVersion(app.name, route_version);
    if (!version.ok()) return version.error();
    auto parsed = ParseManifest(version->manifest, {});
    if (!parsed.ok()) return Error::Internal("stored manifest does not parse");
    if (host_.empty() && parsed->manifest.fleet.enabled() && !here) continue;
    const Route& route = parsed->manifest.route;
    if (route.listen.empty() && route.preview.empty()) continue;

    RouteApp ra;
    ra.name = app.name;
    ra.slotPinning = route.slotPinning;
    ra.trustedProxies = route.trustedProxies;
    std::map<std::string, std::map<int, std::vector<RouteBackend>>> by_slot;
    for (const auto& i : *instances) {
      if (i.state != InstanceState::kReady || i.host != host_) continue;
      by_slot[i.slot][i.version].push_back({i.id, "127.0.0.1:" + std::to_string(i.port)});
    }
    by_slot[kProductionSlot];  // the production slot exists even with no backend (503)
    if (!route.preview.empty()) by_slot[kPreviewSlot];
    std::map<std::string, const SlotRecord*> records;
    for (const auto& s : *slots) records[s.slot] = &s;
    for (auto& [slot, versions] : by_slot) {
      RouteSlot rs;
      rs.name = slot;
      const SlotRecord* rec = records.count(slot) ? records[slot] : nullptr;
      const int canary = rec ? rec->canaryVersion : 0;
      const int canary_share = rec && canary ? rec->canaryWeight : 0;
      // Every ready instance takes an equal share: a version weighs its instance count,
      // scaled into the table's 0..100. A canary takes exactly its share, the others split
      // the rest by their instance counts.
      size_t total = 0;
      for (auto& [v, backends] : versions) total += v == canary ? 0 : backends.size();
      const int rest = canary ? 100 - canary_share : 100;
      // A canary alone in its slot takes all of it: a fleet host whose wave has moved on
      // runs nothing else, whatever share the next wave's hosts give the canary.
      const bool alone = canary && versions.size() == 1 && versions.count(canary);
      for (auto& [v, backends] : versions) {
        int weight;
        if (alone) {
          weight = 100;
        } else if (v == canary) {
          weight = canary_share;
        } else if (canary || total > 100) {
          weight = total ? static_cast<int>(backends.size() * rest / total) : 0;
          if (weight == 0 && rest > 0) weight = 1;
        } else {
          weight = static_cast<int>(backends.size());
        }
        rs.versions.push_back({v, weight, std::move(backends)});
      }
      // A slot's share of production's new clients (`lastgood traffic`), once it can serve.
      if (slot != kProductionSlot && rec && rec->weight > 0 && !rs.versions.empty())
        ra.split[slot] = std::min(rec->weight, 100);
      ra.slots.push_back(std::move(rs));
    }
    if (!route.listen.empty())
      table.listeners.push_back(
          {route.listen, "", app.name, kProductionSlot, route.maxConnectionsPerClient});
    if (!route.preview.empty())
      table.listeners.push_back(
          {route.preview, "", app.name, kPreviewSlot, route.maxConnectionsPerClient});
    table.apps.push_back(std::move(ra));
  }
  return table;
}

Result<RouterStats> Routes::Stats(Millis window) {
  if (!members_.empty()) {
    std::vector<Result<RouterStats>> answers(members_.size(), Error::Unavailable(""));
    std::vector<std::thread> askers;
    for (size_t i = 0; i < members_.size(); ++i)
      askers.emplace_back([&, i] { answers[i] = members_[i]->Stats(window); });
    for (auto& t : askers) t.join();
    std::vector<RouterStats> got;
    std::string why;
    for (size_t i = 0; i < answers.size(); ++i) {
      if (answers[i].ok()) {
        got.push_back(std::move(*answers[i]));
      } else if (why.empty()) {
        why = members_[i]->host() + ": " + answers[i].error().message;
      }
    }
    if (got.empty()) return Error::Unavailable("no host's router answered (" + why + ")");
    return MergeStats(got);
  }
  if (!router_ && store_ == nullptr)
    return Error::Unavailable("no host of the deployment can be reached now");
  if (!router_)
    return Error::Unavailable("this controller runs without a router (serve --no-router)");
  return router_->Stats(window);
}

bool Routes::Routed(const std::string& app) {
  for (Routes* r : members_) {
    if (r->Routed(app)) return true;
  }
  std::lock_guard lock(mu_);
  return routed_.count(app) > 0;
}

Status Routes::Publish() {
  if (!members_.empty()) {
    std::vector<Status> done(members_.size(), Status::Ok());
    std::vector<std::thread> senders;
    for (size_t i = 0; i < members_.size(); ++i)
      senders.emplace_back([&, i] { done[i] = members_[i]->Publish(); });
    for (auto& t : senders) t.join();
    for (size_t i = 0; i < done.size(); ++i) {
      if (!done[i].ok())
        return Error::Unavailable(members_[i]->host() + ": " + done[i].error().message);
    }
    return Status::Ok();
  }
  if (!router_) return Status::Ok();
  std::lock_guard lock(mu_);
  auto table = Build();
  if (!table.ok()) return table.error();
  // Generations must rise across controller restarts too: start from the wall clock.
  generation_ = std::max<uint64_t>(generation_ + 1, clock_->NowMillis() * 1000);
  table->generation = generation_;
  LG_RETURN_IF_ERROR(router_->Apply(*table));
  std::set<std::string> before;
  for (const auto& [app, ls] : listeners_) {
    for (const auto& l : ls) before.insert(l.address);
  }
  routed_.clear();
  listeners_.clear();
  for (const auto& l : table->listeners) {
    routed_.insert(l.app);
    listeners_[l.app].push_back(l);
  }
  return NewListenersBound(*table, before);
}

// The router serves every other listener when one cannot be bound, and keeps trying it
// (docs/router.md). A change that brings in a listener the router cannot bind still fails,
// so that the deployment that asked for it says why rather than succeeding unreachable; a
// listener that was there before (its port taken after a reboot, say) fails nothing.
Status Routes::NewListenersBound(const RoutingTable& table, const std::set<std::string>& before) {
  bool added = false;
  for (const auto& l : table.listeners) added |= !before.count(l.address);
  if (!added) return Status::Ok();
  auto health = router_->Health();
  if (!health.ok()) return Status::Ok();  // a router without health reports: nothing to check
  for (const auto& state : health->listeners) {
    if (state.bound || before.count(state.address)) continue;
    for (const auto& l : table.listeners) {
      if (l.address == state.address) {
        return Error::Unavailable(l.app + "'s route: " + state.error);
      }
    }
  }
  return Status::Ok();
}

std::vector<ListenerView> Routes::Listeners(const std::string& app) {
  std::vector<RouteListener> mine;
  {
    std::lock_guard lock(mu_);
    if (auto it = listeners_.find(app); it != listeners_.end()) mine = it->second;
    // Nothing sent yet by this controller (a fleet host's router, after a controller
    // restart, keeps the table it had): the table as the store says it is.
    if (generation_ == 0 && router_) {
      if (auto table = Build(); table.ok()) {
        for (const auto& l : table->listeners)
          if (l.app == app) mine.push_back(l);
      }
    }
  }
  if (mine.empty() || !router_) return {};
  auto health = router_->Health();
  if (!health.ok()) return {};
  std::vector<ListenerView> out;
  for (const auto& l : mine) {
    ListenerView view{l.address, l.slot, false, "not in the router's table yet"};
    for (const auto& state : health->listeners) {
      if (state.address == l.address) {
        view.bound = state.bound;
        view.error = state.error;
      }
    }
    out.push_back(std::move(view));
  }
  return out;
}

}  // namespace lastgood
