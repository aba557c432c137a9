#include "cli/main.h"

#include <cstdio>

namespace lastgood::cli {

int Main(int, char**) {
  std::fprintf(stderr, "lastgood: not built yet\n");
  return 1;
}

}  // namespace lastgood::cli
