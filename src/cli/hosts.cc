// `lastgood host add|remove` and `lastgood hosts` (`host upgrade`: cli/host_upgrade.cc): the
// fleet's hosts (docs/fleets.md).
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {

namespace {

// "0.10.0 (3f1c0e9a2b4d)": the node's release and the start of its build id, as `lastgood
// --version` names a build; "-" until the node has answered.
std::string NodeLastgood(const nlohmann::json& h) {
  if (!h.contains("node") || !h["node"].is_object()) return "-";
  const auto& n = h["node"];
  std::string version = n.value("version", "");
  std::string build = n.value("buildId", "").substr(0, 12);
  return (version.empty() ? "unknown" : version) + " (" + (build.empty() ? "unknown" : build) + ")";
}

std::string Labels(const nlohmann::json& labels) {
  std::string out;
  for (const auto& [k, v] : labels.items())
    out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  return out.empty() ? "-" : out;
}

}  // namespace

void AddHostVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto* host = app.add_subcommand("host", "add, upgrade or remove a fleet host (docs/fleets.md)");
  host->require_subcommand(1);

  struct AddFlags {
    std::string name, ssh, nodeHome;
    std::vector<std::string> labels;
    bool acceptNew = false;
  };
  auto af = std::make_shared<AddFlags>();
  auto* add = host->add_subcommand(
      "add", "reach a host with ssh, install and start its node, and record it");
  add->add_option("name", af->name, "the host's name in lastgood, e.g. web1")->required();
  add->add_option("--ssh", af->ssh, "what to hand ssh: host, user@host or an ssh_config alias")
      ->required();
  add->add_option("--label", af->labels, "K=V, what manifests select on (repeatable)");
  add->add_option("--node-home", af->nodeHome,
                  "the node's home there (default /var/lib/lastgood-node for root, else "
                  "~/.local/state/lastgood-node)");
  add->add_flag("--accept-new-host-key", af->acceptNew,
                "trust the host's key on first contact (a changed key is always refused)");
  add->callback([&g, af, exit_code] {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& kv : af->labels) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        return void(*exit_code = Fail(
                        g, Error::InvalidInput("--label wants K=V, not '" + kv + "'", "labels")));
      labels[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    nlohmann::json body = {{"name", af->name},
                           {"ssh", af->ssh},
                           {"labels", labels},
                           {"acceptNewHostKey", af->acceptNew}};
    if (!af->nodeHome.empty()) body["nodeHome"] = af->nodeHome;
    auto r = g.Client().Post("/v1/hosts", body);
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::cout << "host " << af->name << " added: node " << NodeLastgood(*r) << " serving in "
              << (*r)["nodeHome"].get<std::string>() << " on " << af->ssh << "\n";
  });

  struct RemoveFlags {
    std::string name;
    bool drain = false;
  };
  auto rf = std::make_shared<RemoveFlags>();
  auto* remove = host->add_subcommand(
      "remove", "forget a host; refused while instances run there unless --drain");
  remove->add_option("name", rf->name, "the host's name")->required();
  remove->add_flag("--drain", rf->drain,
                   "first take its instances out of its router's table and stop them");
  remove->callback([&g, rf, exit_code] {
    if (auto s = ValidateName(rf->name, "host name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Delete("/v1/hosts/" + rf->name + (rf->drain ? "?drain=1" : ""));
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::cout << "host " << rf->name << " removed" << (rf->drain ? " (drained)" : "")
              << "; its node keeps running until its owner stops it\n";
  });

  AddHostUpgrade(*host, g, exit_code);

  // `lastgood node …` is dispatched before CLI11 parses (cli/main.cc); listed for --help.
  app.add_subcommand("node", "run a fleet host's agent (normally started by host add)")
      ->allow_extras();

  auto* list =
      app.add_subcommand("hosts", "the fleet's hosts: reachable, node version, apps, last seen");
  list->callback([&g, exit_code] {
    auto r = g.Client().Get("/v1/hosts");
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "SSH", "LABELS", "REACHABLE", "NODE", "APPS", "INSTANCES", "LAST SEEN"}};
    for (const auto& h : *r) {
      std::string node = NodeLastgood(h);
      std::string apps;
      for (const auto& a : h.value("apps", nlohmann::json::array()))
        apps += (apps.empty() ? "" : ",") + a.get<std::string>();
      rows.push_back({h["name"], h["ssh"], Labels(h["labels"]),
                      h["reachable"].get<bool>() ? "yes" : "no", node, apps.empty() ? "-" : apps,
                      std::to_string(h["instances"].get<int>()),
                      h["lastSeen"].is_null() ? "never" : ShortTime(h["lastSeen"])});
    }
    PrintTable(rows);
    // Nodes of another build than the controller's (after an upgrade of lastgood): say how to
    // bring them to it.
    std::string controller_build;
    if (auto health = g.Client().Get("/v1/health"); health.ok() && health->contains("version"))
      controller_build = (*health)["version"].value("buildId", "");
    for (const auto& h : *r) {
      if (controller_build.empty() || !h.contains("node") || !h["node"].is_object()) continue;
      if (h["node"].value("buildId", "") == controller_build) continue;
      std::cout << h["name"].get<std::string>() << ": its node runs " << NodeLastgood(h)
                << ", another build than the controller's (" << controller_build.substr(0, 12)
                << "): lastgood host upgrade " << h["name"].get<std::string>() << "\n";
    }
    for (const auto& h : *r) {
      // Never silent: a host whose node runs deployed code unconfined is named, with why.
      if (h.contains("confinement") && h["confinement"].is_object() &&
          h["confinement"].value("mode", "") == "none")
        std::cout << h["name"].get<std::string>() << ": WARNING: deployed code runs unconfined: "
                  << h["confinement"].value("detail", "") << "\n";
      if (h.contains("problem"))
        std::cout << h["name"].get<std::string>() << ": " << h["problem"].get<std::string>()
                  << "\n";
      for (const auto& l : h.value("listeners", nlohmann::json::array())) {
        if (!l.value("bound", true))
          std::cout << h["name"].get<std::string>() << ": its router cannot bind "
                    << l.value("address", "") << ": " << l.value("error", "") << "\n";
      }
    }
  });
}

}  // namespace lastgood::cli
