// The CLI's entry point: parses the verb and its flags, runs it, returns the exit code.
#pragma once

namespace lastgood::cli {

int Main(int argc, char** argv);

}  // namespace lastgood::cli
