#include "api/hosts.h"

#include <map>
#include <set>

#include "api/json.h"
#include "base/version.h"
#include "store/store.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

json HostJson(const HostView& h) {
  json j = {
      {"name", h.record.name},
      {"ssh", h.record.ssh},
      {"labels", h.record.labels},
      {"reachable", h.reachable},
      // The node's lastgood as `lastgood version -o json` says it there; null until
      // its node has answered.
      {"nodeVersion",
       h.nodeLastgood.buildId.empty() ? json(nullptr) : json(h.nodeLastgood.version)},
      {"node", h.nodeLastgood.buildId.empty() ? json(nullptr) : BuildVersionJson(h.nodeLastgood)},
      {"lastSeen", h.record.lastSeen == 0 ? json(nullptr) : json(h.record.lastSeen)},
      {"nodeHome", h.record.nodeHome},
      {"instances", h.instances}};
  if (!h.problem.empty()) j["problem"] = Utf8String(h.problem);
  json listeners = json::array();
  for (const auto& l : h.listeners) {
    json one = {{"address", l.address}, {"bound", l.bound}};
    if (!l.bound) one["error"] = Utf8String(l.error);
    listeners.push_back(one);
  }
  j["listeners"] = listeners;
  // How its node confines deployed code; null until a node that says it has answered.
  j["confinement"] = h.confinement.empty() ? json(nullptr)
                                           : json{{"mode", h.confinement},
                                                  {"detail", Utf8String(h.confinementDetail)}};
  return j;
}

ApiResponse Answer(const json& j) { return {200, DumpJson(j)}; }

ApiResponse ListHosts(Fleet* fleet, Store& store) {
  auto hosts = fleet->List();
  if (!hosts.ok()) return ErrorResponse(hosts.error());
  // The apps each host runs, as the record says (what its node runs is in "instances").
  auto instances = store.AllInstances();
  if (!instances.ok()) return ErrorResponse(instances.error());
  std::map<std::string, std::set<std::string>> apps;
  for (const auto& i : *instances) {
    if (!i.host.empty()) apps[i.host].insert(i.app);
  }
  json out = json::array();
  for (const auto& h : *hosts) {
    json j = HostJson(h);
    j["apps"] = apps[h.record.name];
    out.push_back(std::move(j));
  }
  return Answer(out);
}

ApiResponse AddHost(Fleet* fleet, const ApiRequest& req) {
  auto body = ParseRequestBody(req.body, {"name", "ssh", "labels", "nodeHome", "acceptNewHostKey"});
  if (!body.ok()) return ErrorResponse(body.error());
  HostAddRequest add;
  auto name = BodyField<std::string>(*body, "name");
  auto ssh = BodyField<std::string>(*body, "ssh");
  auto home = BodyField<std::string>(*body, "nodeHome");
  auto labels = BodyField<std::map<std::string, std::string>>(*body, "labels");
  auto accept = BodyField<bool>(*body, "acceptNewHostKey");
  for (const auto* f : {&name, &ssh, &home})
    if (!f->ok()) return ErrorResponse(f->error());
  if (!labels.ok()) return ErrorResponse(labels.error());
  if (!accept.ok()) return ErrorResponse(accept.error());
  add.name = name->value_or("");
  add.ssh = ssh->value_or("");
  add.nodeHome = home->value_or("");
  add.labels = labels->value_or(std::map<std::string, std::string>{});
  add.acceptNewHostKey = accept->value_or(false);
  auto added = fleet->Add(add);
  if (!added.ok()) return ErrorResponse(added.error());
  return Answer(HostJson(*added));
}

ApiResponse RemoveHost(Fleet* fleet, const RouteCall& c) {
  const std::string& name = c.path.at("host");
  auto drain_value = c.Query("drain");
  bool drain = drain_value && (*drain_value == "1" || *drain_value == "true");
  if (auto s = fleet->Remove(name, drain); !s.ok()) return ErrorResponse(s.error());
  return Answer({{"removed", name}, {"drained", drain}});
}

ApiResponse UpgradeHost(Fleet* fleet, const RouteCall& c) {
  const std::string& name = c.path.at("host");
  auto running = c.store.RunningDeployments();
  if (!running.ok()) return ErrorResponse(running.error());
  if (auto s = RefuseNodeUpgradeDuring(*running, name); !s.ok()) return ErrorResponse(s.error());
  auto up = fleet->Upgrade(name);
  if (!up.ok()) return ErrorResponse(up.error());
  return Answer({{"name", up->host},
                 {"changed", up->changed},
                 {"copied", up->copied},
                 {"from", BuildVersionJson(up->from)},
                 {"to", BuildVersionJson(up->to)},
                 {"routerBuildId", up->routerBuild},
                 {"installMillis", up->install.count()},
                 {"nodeAwayMillis", up->nodeAway.count()}});
}

}  // namespace

Status RefuseNodeUpgradeDuring(const std::vector<Deployment>& running, const std::string& host) {
  for (const auto& d : running) {
    for (const auto& op : d.operations) {
      if (op.host == host)
        return Error::Conflict("deployment " + d.name + " of " + d.app + " runs on host " + host +
                               "; upgrade its node once it has ended");
    }
  }
  return Status::Ok();
}

std::vector<ApiRoute> HostRoutes(Fleet* fleet) {
  using auth::Role;
  return {
      {"GET", "/v1/hosts", Role::kViewer,
       [fleet](const RouteCall& c) { return ListHosts(fleet, c.store); }},
      {"POST", "/v1/hosts", Role::kAdmin,
       [fleet](const RouteCall& c) { return AddHost(fleet, c.request); }},
      {"POST", "/v1/hosts/{host}/upgrade", Role::kAdmin,
       [fleet](const RouteCall& c) { return UpgradeHost(fleet, c); }},
      {"DELETE", "/v1/hosts/{host}", Role::kAdmin,
       [fleet](const RouteCall& c) { return RemoveHost(fleet, c); }},
  };
}

}  // namespace lastgood
