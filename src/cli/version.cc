// `lastgood version [-o json]` and `lastgood --version`: what this binary is (base/version.h).
// Local only: it asks no controller (a controller of another build is named by the warning
// every verb prints, cli/client.cc).
#include "base/version.h"

#include <iostream>

#include "cli/verbs.h"

namespace lastgood::cli {

void AddBuildVerbs(CLI::App& app, Globals& g, int* exit_code) {
  app.set_version_flag(
      "--version", [] { return DescribeBuild(ThisBuild()); },
      "print what this binary is (version, commit, build id) and exit");
  auto* cmd = app.add_subcommand(
      "version", "what this binary is: its version, the commit it was built from, its build id");
  cmd->callback([&g, exit_code] {
    *exit_code = 0;
    if (g.json()) return PrintJson(BuildVersionJson(ThisBuild()));
    const BuildVersion& v = ThisBuild();
    std::cout << "lastgood " << v.version << "\ncommit   "
              << (v.commit.empty() ? "unknown" : v.commit) << "\nbuild id "
              << (v.buildId.empty() ? "unknown" : v.buildId) << "\n";
  });
}

}  // namespace lastgood::cli
