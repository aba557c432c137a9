#include "router/compiled_table.h"

#include "router/address.h"
#include "router/http_head.h"

namespace lastgood {

int CompiledApp::FindSlot(std::string_view name) const {
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const ListenerRoute* CompiledTable::Match(uint32_t listener, std::string_view host) const {
  if (listener >= routes.size()) return nullptr;
  const auto& candidates = routes[listener];
  if (candidates.size() == 1 && candidates[0].host.empty()) return &candidates[0];
  // Host may carry a port ("web.example.com:8080", "[::1]:8080").
  if (!host.empty() && host.front() == '[') {
    size_t end = host.find(']');
    if (end != std::string_view::npos) host = host.substr(0, end + 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const ListenerRoute* any = nullptr;
  for (const auto& route : candidates) {
    if (route.host.empty()) {
      any = &route;
    } else if (EqualsIgnoreCase(route.host, host)) {
      return &route;
    }
  }
  return any;
}

uint32_t StableIds::Of(const std::string& key) {
  auto [it, inserted] = ids_.try_emplace(key, static_cast<uint32_t>(ids_.size()));
  return it->second;
}

std::shared_ptr<const CompiledTable> CompileTable(const RoutingTable& table, StableIds& pools,
                                                  StableIds& listeners, StatsRegistry& stats) {
  auto out = std::make_shared<CompiledTable>();
  out->source = table;
  for (const RouteApp& app : table.apps) {
    CompiledApp ca;
    ca.name = app.name;
    ca.pinning = app.slotPinning;
    for (const auto& cidr : app.trustedProxies) ca.trusted.push_back(ParseCidr(cidr).value());
    for (const RouteSlot& slot : app.slots) {
      CompiledSlot cs;
      cs.name = slot.name;
      cs.swrr = out->swrr_size;
      out->swrr_size += static_cast<int>(slot.versions.size());
      for (const RouteVersion& version : slot.versions) {
        CompiledVersion cv;
        cv.version = version.version;
        cv.round_robin = out->round_robin_size++;
        for (const RouteBackend& backend : version.backends) {
          CompiledBackend cb;
          cb.id = backend.id;
          cb.endpoint = ParseAddress(backend.address, false).value();
          cb.pool = pools.Of(backend.address);
          if (out->live_pools.size() <= cb.pool) out->live_pools.resize(cb.pool + 1);
          out->live_pools[cb.pool] = true;
          cb.stats = stats.Series({app.name, slot.name, version.version, backend.id});
          if (app.slotPinning && slot.name != kProductionSlot) {
            cb.pinned_stats =
                stats.Series({app.name, slot.name, version.version, backend.id, true});
          }
          cv.backends.push_back(std::move(cb));
        }
        // A version without backends can take no requests, whatever its weight.
        cs.weights.push_back(cv.backends.empty() ? 0 : version.weight);
        cs.versions.push_back(std::move(cv));
      }
      ca.slots.push_back(std::move(cs));
    }
    int production = ca.FindSlot(kProductionSlot);
    int left = 100;
    for (const auto& [slot, share] : app.split) {
      int index = ca.FindSlot(slot);
      if (share <= 0 || index < 0 || index == production) continue;
      ca.split_slots.push_back(index);
      ca.split_weights.push_back(share);
      left -= share;
    }
    ca.in_split.assign(ca.slots.size(), false);
    if (production >= 0 && !ca.split_slots.empty()) {
      ca.split_slots.push_back(production);
      ca.split_weights.push_back(left);
      ca.split_swrr = out->swrr_size;
      out->swrr_size += static_cast<int>(ca.split_slots.size());
      for (int index : ca.split_slots) ca.in_split[index] = true;
    } else {
      ca.split_slots.clear();
      ca.split_weights.clear();
    }
    out->apps.push_back(std::move(ca));
  }
  for (const RouteListener& l : table.listeners) {
    uint32_t id = listeners.Of(l.address);
    if (out->routes.size() <= id) out->routes.resize(id + 1);
    if (out->client_limits.size() <= id) out->client_limits.resize(id + 1);
    int& limit = out->client_limits[id];
    if (l.maxConnectionsPerClient > 0 && (limit == 0 || l.maxConnectionsPerClient < limit)) {
      limit = l.maxConnectionsPerClient;
    }
    ListenerRoute route;
    route.host = l.host;
    for (size_t a = 0; a < out->apps.size(); ++a) {
      if (out->apps[a].name == l.app) route.app = static_cast<int>(a);
    }
    route.slot = out->apps[route.app].FindSlot(l.slot);
    route.production = l.slot == kProductionSlot;
    out->routes[id].push_back(std::move(route));
  }
  return out;
}

}  // namespace lastgood
