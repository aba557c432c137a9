// `lastgood rollback`, `rollforward` and `promote`.
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {
namespace {

struct RollFlags {
  std::string app;
  int to = 0;
  bool force = false;
  bool whatIf = false;
  bool noWait = false;
  std::string slot = "production";
};

int RunIntent(const Globals& g, const std::string& app, const std::string& verb,
              const nlohmann::json& body, bool no_wait) {
  if (auto s = ValidateName(app, "app name"); !s.ok()) return Fail(g, s.error());
  auto outcome = g.Client().Post("/v1/apps/" + app + "/" + verb, body);
  if (!outcome.ok()) return Fail(g, outcome.error());
  const auto& o = *outcome;
  std::string headline;
  if (o["deployment"].is_string()) {
    headline = app + ": " + verb + " from v" + o["fromVersion"].dump() + " to v" +
               o["version"].dump() + ", deployment " + o["deployment"].get<std::string>();
  }
  return ReportOutcome(g, o, no_wait, headline);
}

void AddRoll(CLI::App& app, Globals& g, int* exit_code, const std::string& verb,
             const std::string& help) {
  auto f = std::make_shared<RollFlags>();
  auto* cmd = app.add_subcommand(verb, help);
  cmd->add_option("app", f->app, "the app")->required();
  auto* to = cmd->add_option("--to", f->to, "the version to go to");
  cmd->add_flag("--force", f->force, "allow a version that is bad or not known good");
  cmd->add_flag("--what-if", f->whatIf, "print the plan and the diff; change nothing");
  cmd->add_flag("--no-wait", f->noWait, "start the deployment and return");
  cmd->add_option("--slot", f->slot, "the slot (default production)");
  cmd->callback([&g, f, exit_code, verb, to] {
    nlohmann::json body = {{"force", f->force}, {"whatIf", f->whatIf}, {"slot", f->slot}};
    if (to->count() > 0) body["to"] = f->to;
    *exit_code = RunIntent(g, f->app, verb, body, f->noWait);
  });
}

}  // namespace

void AddRollVerbs(CLI::App& app, Globals& g, int* exit_code) {
  AddRoll(app, g, exit_code, "rollback",
          "go back to the last good version (or --to N); preempts a running deployment");
  AddRoll(app, g, exit_code, "rollforward",
          "go forward to the newest version that is not bad (or --to N)");
  auto f = std::make_shared<RollFlags>();
  auto* cmd = app.add_subcommand("promote", "append a new version equal to VERSION and deploy it");
  cmd->add_option("app", f->app, "the app")->required();
  cmd->add_option("version", f->to, "the version to promote")->required();
  cmd->add_flag("--what-if", f->whatIf, "print the plan and the diff; change nothing");
  cmd->add_flag("--no-wait", f->noWait, "start the deployment and return");
  cmd->callback([&g, f, exit_code] {
    *exit_code =
        RunIntent(g, f->app, "promote", {{"version", f->to}, {"whatIf", f->whatIf}}, f->noWait);
  });
}

}  // namespace lastgood::cli
