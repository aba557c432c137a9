// `lastgood host upgrade NAME... | --all`: each host's node brought to the controller's
// build, one host at a time, stopping at the first that fails (docs/fleets.md, "Upgrading
// the nodes"). The controller does the work (POST /v1/hosts/NAME/upgrade); this verb picks
// the hosts and says what happened to each.
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {
namespace {

std::string Build(const nlohmann::json& v) {
  std::string version = v.value("version", ""), build = v.value("buildId", "").substr(0, 12);
  return (version.empty() ? "unknown" : version) + " (" + (build.empty() ? "unknown" : build) + ")";
}

void Say(const nlohmann::json& r) {
  const std::string name = r.value("name", "");
  if (!r.value("changed", false)) {
    std::cout << "host " << name << ": its node already runs " << Build(r["to"]) << "\n";
    return;
  }
  std::cout << "host " << name << ": node " << Build(r["from"]) << " -> " << Build(r["to"])
            << "; its router taken over by build " << r.value("routerBuildId", "").substr(0, 12)
            << ", its instances re-adopted ("
            << (r.value("copied", false) ? "binary sent and checked in " : "binary checked in ")
            << r.value("installMillis", 0) << " ms; node away " << r.value("nodeAwayMillis", 0)
            << " ms)\n";
}

}  // namespace

void AddHostUpgrade(CLI::App& host, Globals& g, int* exit_code) {
  struct Flags {
    std::vector<std::string> names;
    bool all = false;
  };
  auto f = std::make_shared<Flags>();
  auto* upgrade = host.add_subcommand(
      "upgrade",
      "replace a host's node with this controller's build; its router is taken over and its "
      "instances keep running (no request fails)");
  upgrade->add_option("name", f->names, "the hosts, upgraded one at a time in this order");
  upgrade->add_flag("--all", f->all, "every registered host, in name order");
  upgrade->callback([&g, f, exit_code] {
    if (f->all == !f->names.empty())
      return void(
          *exit_code = Fail(
              g, Error::InvalidInput(f->all ? "host upgrade takes host names or --all, not both"
                                            : "host upgrade wants host names, or --all")));
    std::vector<std::string> names = f->names;
    if (f->all) {
      auto list = g.Client().Get("/v1/hosts");
      if (!list.ok()) return void(*exit_code = Fail(g, list.error()));
      for (const auto& h : *list) names.push_back(h.value("name", ""));
    }
    for (const auto& n : names) {
      if (auto s = ValidateName(n, "host name"); !s.ok())
        return void(*exit_code = Fail(g, s.error()));
    }
    nlohmann::json done = nlohmann::json::array();
    for (size_t i = 0; i < names.size(); ++i) {
      auto r = g.Client().Post("/v1/hosts/" + names[i] + "/upgrade", nlohmann::json::object());
      if (!r.ok()) {
        Error e = r.error();
        if (i + 1 < names.size()) {
          std::string rest;
          for (size_t j = i + 1; j < names.size(); ++j)
            rest += (rest.empty() ? "" : ", ") + names[j];
          e.message += " (not tried: " + rest + ")";
        }
        if (g.json() && !done.empty()) PrintJson(done);
        return void(*exit_code = Fail(g, e));
      }
      done.push_back(*r);
      if (!g.json()) Say(*r);
    }
    if (g.json()) PrintJson(done);
  });
}

}  // namespace lastgood::cli
