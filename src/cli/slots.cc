// `lastgood swap`, `traffic`, `pause`, `resume` and `abort` (issue 4): the slot intents.
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {
namespace {

struct SwapFlags {
  std::string app;
  std::string source = "staging";
  std::string target = "production";
  bool preview = false, complete = false, cancel = false;
  bool whatIf = false, noWait = false;
};

// Prints an intent that changes routing or a running deployment at once (no deployment of
// its own to follow): its message, or the outcome as JSON.
int ReportAtOnce(const Globals& g, const nlohmann::json& o) {
  if (g.json()) {
    PrintJson(o);
  } else {
    std::cout << (o["whatIf"].get<bool>() ? "what-if: " : "") << o["message"].get<std::string>()
              << (o["whatIf"].get<bool>() ? "; nothing was changed" : "") << "\n";
  }
  return 0;
}

int Swap(const Globals& g, const SwapFlags& f) {
  if (auto s = ValidateName(f.app, "app name"); !s.ok()) return Fail(g, s.error());
  const char* action = f.preview    ? "preview"
                       : f.complete ? "complete"
                       : f.cancel   ? "cancel"
                                    : "swap";
  nlohmann::json body = {
      {"source", f.source}, {"target", f.target}, {"action", action}, {"whatIf", f.whatIf}};
  auto outcome = g.Client().Post("/v1/apps/" + f.app + "/swap", body);
  if (!outcome.ok()) return Fail(g, outcome.error());
  const auto& o = *outcome;
  if (o["whatIf"].get<bool>()) {
    if (g.json()) {
      PrintJson(o);
    } else {
      std::cout << "what-if: " << o["message"].get<std::string>() << "; nothing was changed\n";
      size_t i = 0;
      for (const auto& step : o["plan"])
        std::cout << "  [" << ++i << "/" << o["plan"].size() << "] " << step.get<std::string>()
                  << "\n";
    }
    return 0;
  }
  std::string headline = f.app + ": " + action + " " + f.source + " → " + f.target +
                         " (production gets v" + o["version"].dump() + ", was v" +
                         o["fromVersion"].dump() + "), deployment " +
                         o["deployment"].get<std::string>();
  return ReportOutcome(g, o, f.noWait, headline);
}

// "staging=10" → {"staging", 10}; a usage error names the argument.
Result<std::pair<std::string, int>> ParseShare(const std::string& arg) {
  auto eq = arg.find('=');
  auto bad = [&] {
    return Error::InvalidInput("'" + arg + "' is not SLOT=PERCENT (like staging=10)", "shares");
  };
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size() || eq + 4 < arg.size())
    return bad();
  int percent = 0;
  for (char c : arg.substr(eq + 1)) {
    if (c < '0' || c > '9') return bad();
    percent = percent * 10 + (c - '0');
  }
  return std::make_pair(arg.substr(0, eq), percent);
}

int Traffic(const Globals& g, const std::string& app, const std::vector<std::string>& args,
            bool what_if) {
  if (auto s = ValidateName(app, "app name"); !s.ok()) return Fail(g, s.error());
  nlohmann::json shares = nlohmann::json::object();
  for (const auto& a : args) {
    auto share = ParseShare(a);
    if (!share.ok()) return Fail(g, share.error());
    if (shares.contains(share->first)) {
      return Fail(g, Error::InvalidInput("slot " + share->first + " is named twice", "shares"));
    }
    shares[share->first] = share->second;
  }
  auto o =
      g.Client().Post("/v1/apps/" + app + "/traffic", {{"shares", shares}, {"whatIf", what_if}});
  if (!o.ok()) return Fail(g, o.error());
  return ReportAtOnce(g, *o);
}

void AddControl(CLI::App& app, Globals& g, int* exit_code, const std::string& verb,
                const std::string& help) {
  auto app_name = std::make_shared<std::string>();
  auto what_if = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(verb, help);
  cmd->add_option("app", *app_name, "the app")->required();
  cmd->add_flag("--what-if", *what_if, "say what would happen; change nothing");
  cmd->callback([&g, exit_code, verb, app_name, what_if] {
    if (auto s = ValidateName(*app_name, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto o = g.Client().Post("/v1/apps/" + *app_name + "/" + verb, {{"whatIf", *what_if}});
    if (!o.ok()) return void(*exit_code = Fail(g, o.error()));
    *exit_code = ReportAtOnce(g, *o);
  });
}

}  // namespace

void AddSlotVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto f = std::make_shared<SwapFlags>();
  auto* swap = app.add_subcommand(
      "swap", "exchange what two slots run (App Service swap): settings, warm-up, then switch");
  swap->add_option("app", f->app, "the app")->required();
  swap->add_option("--source", f->source, "the slot that was warmed up (default staging)");
  swap->add_option("--target", f->target, "the slot it goes to (default production)");
  auto* preview = swap->add_flag("--preview", f->preview,
                                 "phase 1: apply the target's sticky settings to the source; wait");
  auto* complete = swap->add_flag("--complete", f->complete, "phase 2: warm up and switch");
  auto* cancel = swap->add_flag("--cancel", f->cancel, "undo a --preview");
  preview->excludes(complete)->excludes(cancel);
  complete->excludes(cancel);
  swap->add_flag("--what-if", f->whatIf, "print the plan; change nothing");
  swap->add_flag("--no-wait", f->noWait, "start the swap and return");
  swap->callback([&g, f, exit_code] { *exit_code = Swap(g, *f); });

  auto traffic_app = std::make_shared<std::string>();
  auto traffic_shares = std::make_shared<std::vector<std::string>>();
  auto traffic_what_if = std::make_shared<bool>(false);
  auto* traffic = app.add_subcommand(
      "traffic", "send a share of production's new clients to other slots (testing in production)");
  traffic->add_option("app", *traffic_app, "the app")->required();
  traffic->add_option("shares", *traffic_shares, "SLOT=PERCENT, e.g. staging=10 (0 stops it)")
      ->required();
  traffic->add_flag("--what-if", *traffic_what_if, "say what the split would be; change nothing");
  traffic->callback([&g, exit_code, traffic_app, traffic_shares, traffic_what_if] {
    *exit_code = Traffic(g, *traffic_app, *traffic_shares, *traffic_what_if);
  });

  AddControl(app, g, exit_code, "pause", "hold the running deployment before its next step");
  AddControl(app, g, exit_code, "resume", "let a paused deployment go on");
  AddControl(app, g, exit_code, "abort",
             "stop the running deployment: traffic back to the last good version, version bad");
}

}  // namespace lastgood::cli
