// `lastgood serve` and `lastgood router`.
#include "api/controller.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddServe(CLI::App& app, Globals& g, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "run the controller: the store, the engine and the API");
  auto no_router = std::make_shared<bool>(false);
  cmd->add_flag("--no-router", *no_router,
                "do not start or drive the router; instances are reached on their own ports");
  cmd->callback([&g, exit_code, no_router] {
    *exit_code = RunController({g.Home(), !*no_router});
  });
}

void AddRouter(CLI::App& app, Globals&, int*) {
  // `lastgood router …` is dispatched before CLI11 parses (cli/main.cc), straight to the
  // router's own flag parser; this entry only makes it show in --help.
  app.add_subcommand("router", "run the router (data plane); normally started by serve")
      ->allow_extras();
}

}  // namespace lastgood::cli
