// `lastgood versions`, `show` and `diff`: the version history and its contents.
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddVersionVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto vapp = std::make_shared<std::string>();
  auto* versions =
      app.add_subcommand("versions", "the app's versions with their verdicts, oldest first");
  versions->add_option("app", *vapp, "the app")->required();
  versions->callback([&g, vapp, exit_code] {
    if (auto s = ValidateName(*vapp, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Get("/v1/apps/" + *vapp + "/versions");
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) {
      nlohmann::json out = nlohmann::json::array();
      for (auto v : *r) {
        v.erase("params");
        v.erase("contentHash");
        out.push_back(v);
      }
      return PrintJson(out);
    }
    std::vector<std::vector<std::string>> rows = {
        {"VERSION", "VERDICT", "CREATED", "PROMOTED FROM", "DIGEST"}};
    for (const auto& v : *r) {
      rows.push_back(
          {"v" + std::to_string(v["version"].get<int>()), v["verdict"], ShortTime(v["createdAt"]),
           v["promotedFrom"].is_null() ? "-" : "v" + std::to_string(v["promotedFrom"].get<int>()),
           v["digest"].is_null() ? "-" : v["digest"].get<std::string>().substr(0, 19)});
    }
    PrintTable(rows);
  });

  struct ShowFlags {
    std::string app;
    int version = 0;
  };
  auto sf = std::make_shared<ShowFlags>();
  auto* show = app.add_subcommand("show", "a version's manifest (code view)");
  show->add_option("app", sf->app, "the app")->required();
  show->add_option("version", sf->version, "the version")->required();
  show->callback([&g, sf, exit_code] {
    if (auto s = ValidateName(sf->app, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Get("/v1/apps/" + sf->app + "/versions/" + std::to_string(sf->version));
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::cout << "# " << sf->app << " v" << sf->version << " ("
              << (*r)["verdict"].get<std::string>() << ")";
    if ((*r)["digest"].is_string()) std::cout << " artifact " << (*r)["digest"].get<std::string>();
    std::cout << "\n" << (*r)["manifest"].get<std::string>();
  });

  struct DiffFlags {
    std::string app;
    int a = 0, b = 0;
  };
  auto df = std::make_shared<DiffFlags>();
  auto* diff = app.add_subcommand("diff", "a unified diff of two versions' manifests");
  diff->add_option("app", df->app, "the app")->required();
  diff->add_option("a", df->a, "the first version")->required();
  diff->add_option("b", df->b, "the second version")->required();
  diff->callback([&g, df, exit_code] {
    if (auto s = ValidateName(df->app, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Get("/v1/apps/" + df->app + "/diff?a=" + std::to_string(df->a) +
                            "&b=" + std::to_string(df->b));
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::string d = (*r)["diff"];
    std::cout << (d.empty() ? "v" + std::to_string(df->a) + " and v" + std::to_string(df->b) +
                                  " have the same content\n"
                            : d);
  });
}

}  // namespace lastgood::cli
