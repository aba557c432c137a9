// The CLI's reference in the forms a packaged program ships: a man page (roff) and bash and
// zsh completions, each generated from the CLI11 tree of verbs and flags that the binary
// parses with, so that none of them can drift from what `lastgood` accepts.
//
//   lastgood manpage > lastgood.1          (what `make deb` installs as lastgood(1))
//   source <(lastgood completion bash)     (or the files the package installs)
//
// Pure functions of the tree; thread-safe.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lastgood::cli {

// lastgood(1): synopsis, global options, every verb with its arguments and flags, exit
// status, environment and files. `version` goes into the page's header.
std::string ManPage(const CLI::App& root, const std::string& version);

// A bash completion script for `lastgood`: verbs, sub-verbs, each verb's flags; a flag that
// takes a value completes file names.
std::string BashCompletion(const CLI::App& root);

// The same for zsh (`#compdef lastgood`), with each verb's and flag's description.
std::string ZshCompletion(const CLI::App& root);

}  // namespace lastgood::cli
