// `lastgood serve` and `lastgood router`.
#include "api/controller.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddServe(CLI::App& app, Globals& g, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "run the controller: the store, the engine and the API");
  cmd->callback([&g, exit_code] { *exit_code = RunController({g.Home()}); });
}

void AddRouter(CLI::App& app, Globals& g, int* exit_code) {
  auto* cmd = app.add_subcommand("router", "run the router (data plane); normally started by serve");
  cmd->allow_extras();
  cmd->callback([&g, exit_code, cmd] {
    (void)g;
    (void)cmd;
    *exit_code = Fail(g, Error::Unavailable("the router is not built into this lastgood yet"));
  });
}

}  // namespace lastgood::cli
