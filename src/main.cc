// lastgood: one binary, verbs dispatched by the CLI (DESIGN.md section 5).
#include "cli/main.h"

int main(int argc, char** argv) { return lastgood::cli::Main(argc, argv); }
