// `lastgood history` and `lastgood deployment`: the deployment records.
#include <iostream>

#include "base/names.h"
#include "base/percent_encode.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddHistoryVerbs(CLI::App& app, Globals& g, int* exit_code) {
  struct HistoryFlags {
    std::string app;
    int limit = 100;
  };
  auto hf = std::make_shared<HistoryFlags>();
  auto* history = app.add_subcommand("history", "the app's deployment records, newest first");
  history->add_option("app", hf->app, "the app")->required();
  history->add_option("--limit", hf->limit, "how many records (default 100, at most 10000)");
  history->callback([&g, hf, exit_code] {
    if (auto s = ValidateName(hf->app, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r =
        g.Client().Get("/v1/apps/" + hf->app + "/deployments?limit=" + std::to_string(hf->limit));
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "VERSION", "SLOT", "KIND", "TRIGGER", "ACTOR", "STATE", "STARTED", "REASON"}};
    for (const auto& d : *r) {
      rows.push_back({d["name"], "v" + std::to_string(d["version"].get<int>()), d["slot"],
                      d["kind"], d["trigger"], d["actor"], d["state"], ShortTime(d["startedAt"]),
                      d["reason"]});
    }
    PrintTable(rows);
  });

  struct DeploymentFlags {
    std::string app, name;
  };
  auto df = std::make_shared<DeploymentFlags>();
  auto* dep = app.add_subcommand("deployment", "one deployment record with its operations");
  dep->add_option("app", df->app, "the app")->required();
  dep->add_option("name", df->name, "the deployment's name")->required();
  dep->callback([&g, df, exit_code] {
    if (auto s = ValidateName(df->app, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Get("/v1/apps/" + df->app + "/deployments/" + PercentEncode(df->name));
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    auto d = *r;
    if (g.json()) {
      d.erase("changeSeq");
      return PrintJson(d);
    }
    std::cout << "deployment " << d["name"].get<std::string>() << " of " << df->app << "\n"
              << "  version   v" << d["version"] << " (from v" << d["fromVersion"] << ")\n"
              << "  slot      " << d["slot"].get<std::string>() << "\n"
              << "  kind      " << d["kind"].get<std::string>() << " ("
              << d["strategy"].get<std::string>() << ")\n"
              << "  trigger   " << d["trigger"].get<std::string>() << " by "
              << d["actor"].get<std::string>() << "\n"
              << "  state     " << d["state"].get<std::string>() << "\n"
              << "  started   " << ShortTime(d["startedAt"]) << "\n"
              << "  finished  " << ShortTime(d["finishedAt"]) << " ("
              << ShortDuration(d["durationMs"].get<int64_t>()) << ")\n";
    if (!d["reason"].get<std::string>().empty())
      std::cout << "  reason    " << d["reason"].get<std::string>() << "\n";
    std::cout << "operations:\n";
    // A fleet deployment's operations carry their host (docs/fleets.md): one more column.
    bool fleet = false;
    for (const auto& op : d["operations"])
      fleet = fleet || op.value("host", nlohmann::json()).is_string();
    std::vector<std::vector<std::string>> rows;
    if (fleet) {
      rows.push_back({"  #", "HOST", "STEP", "STATE", "TOOK", "DETAIL"});
    } else {
      rows.push_back({"  #", "STEP", "STATE", "TOOK", "DETAIL"});
    }
    int i = 0;
    for (const auto& op : d["operations"]) {
      std::vector<std::string> row = {"  " + std::to_string(++i)};
      if (fleet) {
        const auto host = op.value("host", nlohmann::json());
        row.push_back(host.is_string() ? host.get<std::string>() : "-");
      }
      for (const std::string& cell :
           {op["step"].get<std::string>(), op["state"].get<std::string>(),
            ShortDuration(op["durationMs"].get<int64_t>()), op["detail"].get<std::string>()})
        row.push_back(cell);
      rows.push_back(std::move(row));
    }
    PrintTable(rows);
  });
}

}  // namespace lastgood::cli
