// `lastgood completion bash|zsh` and `lastgood manpage`: the reference generated from this
// binary's own verbs (cli/reference.h). `manpage` is hidden: the package runs it at build
// time; users read the result with `man lastgood`.
#include <iostream>

#include "cli/reference.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddReferenceVerbs(CLI::App& app, Globals&, int* exit_code) {
  auto* completion = app.add_subcommand(
      "completion", "print a shell completion script: source <(lastgood completion bash)");
  auto shell = std::make_shared<std::string>();
  completion->add_option("SHELL", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->callback([&app, shell, exit_code] {
    std::cout << (*shell == "bash" ? BashCompletion(app) : ZshCompletion(app));
    *exit_code = 0;
  });
  auto* manpage = app.add_subcommand("manpage", "print lastgood(1) in roff");
  manpage->group("");  // hidden: a build step, not a verb users need
  manpage->callback([&app, exit_code] {
    std::cout << ManPage(app, "");
    *exit_code = 0;
  });
}

}  // namespace lastgood::cli
