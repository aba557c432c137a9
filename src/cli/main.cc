#include "cli/main.h"

#include <iostream>

#include "base/duration.h"
#include "cli/verbs.h"
#include "node/node_main.h"
#include "router/router.h"

namespace lastgood::cli {

int Main(int argc, char** argv) {
  // The router is its own process with its own flags (router/router_main.cc).
  if (argc >= 2 && std::string(argv[1]) == "router") return RouterMain(argc - 1, argv + 1);
  // So is a fleet host's node (node/node_main.h).
  if (argc >= 2 && std::string(argv[1]) == "node") return NodeMain(argc - 1, argv + 1);
  CLI::App app{
      "lastgood: a release controller — every deployment on record, the last good "
      "version back at one command"};
  app.require_subcommand(1);
  Globals g;
  app.add_option("--home", g.home,
                 "state directory (default $LASTGOOD_HOME, else "
                 "$XDG_STATE_HOME/lastgood, else ~/.local/state/lastgood)")
      ->envname("LASTGOOD_HOME");
  app.add_option("--server", g.server,
                 "a controller over TCP: https://HOST:PORT (token from LASTGOOD_TOKEN or "
                 "--token-file)")
      ->envname("LASTGOOD_SERVER");
  app.add_option("--token-file", g.tokenFile, "file holding the bearer token for --server");
  app.add_option("--cacert", g.cacert, "PEM file of the CA that signed the server's certificate");
  app.add_flag("--insecure", g.insecure,
               "allow --server http://... to an address that is not loopback (the token then "
               "crosses the network in clear text)");
  app.add_option_function<std::string>(
         "--timeout",
         [&g](const std::string& text) {
           auto d = ParseDuration(text);
           if (!d.ok() || d->count() <= 0)
             throw CLI::ValidationError("--timeout", "expected a duration such as 30s or 5m");
           g.timeout = *d;
         },
         "how long the controller may take to answer (default 60s); following a deployment "
         "waits for as long as it runs")
      ->envname("LASTGOOD_TIMEOUT");
  app.add_option("-o,--output", g.output, "output format: json")
      ->check(CLI::IsMember({"json", "text"}));
  // Global options are accepted after the verb too ("lastgood history web -o json"); this
  // must be set before the verbs are added, since subcommands copy it when created.
  app.fallthrough();
  int exit_code = 0;
  AddServe(app, g, &exit_code);
  AddRouter(app, g, &exit_code);
  AddApply(app, g, &exit_code);
  AddRollVerbs(app, g, &exit_code);
  AddHistoryVerbs(app, g, &exit_code);
  AddVersionVerbs(app, g, &exit_code);
  AddStatusVerbs(app, g, &exit_code);
  AddBackupVerbs(app, g, &exit_code);
  AddTokenVerbs(app, g, &exit_code);
  AddSecretVerbs(app, g, &exit_code);
  AddAuditVerb(app, g, &exit_code);
  AddDashboard(app, g, &exit_code);
  AddSlotVerbs(app, g, &exit_code);
  AddReferenceVerbs(app, g, &exit_code);
  AddHostVerbs(app, g, &exit_code);
  AddBuildVerbs(app, g, &exit_code);
  AddLogsVerb(app, g, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (g.json()) {
      return Fail(g, Error::InvalidInput(e.what()));
    }
    app.exit(e);
    return 2;
  }
  return exit_code;
}

}  // namespace lastgood::cli
