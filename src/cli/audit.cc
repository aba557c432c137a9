// `lastgood audit [APP] [--limit N]`: who did what, from where, when, and the result.
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddAuditVerb(CLI::App& app, Globals& g, int* exit_code) {
  struct Flags {
    std::string app;
    int limit = 50;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("audit",
                                 "the audit: every change and every refused attempt, newest first");
  cmd->add_option("app", f->app, "only this app's entries");
  cmd->add_option("--limit", f->limit, "at most this many entries (1-10000)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->callback([&g, f, exit_code] {
    std::string target = "/v1/audit?limit=" + std::to_string(f->limit);
    if (!f->app.empty()) {
      if (auto s = ValidateName(f->app, "app name"); !s.ok())
        return void(*exit_code = Fail(g, s.error()));
      target += "&app=" + f->app;
    }
    auto r = g.Client().Get(target);
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::vector<std::vector<std::string>> rows = {
        {"AT", "ACTOR", "FROM", "ACTION", "STATUS", "COUNT", "MESSAGE"}};
    for (const auto& e : *r) {
      // A folded refusal: how many, until when.
      int64_t count = e.value("count", int64_t{1});
      std::string times = std::to_string(count);
      if (count > 1 && e.value("lastAt", nlohmann::json()).is_string())
        times += " (last " + ShortTime(e["lastAt"]) + ")";
      rows.push_back({ShortTime(e["at"]), e["actor"], e["from"], e["action"],
                      std::to_string(e["status"].get<int>()), times, e["message"]});
    }
    PrintTable(rows);
  });
}

}  // namespace lastgood::cli
