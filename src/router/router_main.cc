// `lastgood router` flags, parsed with plain code so that the CLI can hand argv over as is.
#include <cstdlib>
#include <cstring>
#include <string>

#include "router/keeper.h"
#include "router/router.h"

namespace lastgood {
namespace {

constexpr const char* kUsage =
    "usage: lastgood router [--home DIR] [--threads N] [--admin ADDR] [--max-connections N]\n"
    "                       [--take-over]\n"
    "  --home DIR           state directory (default $LASTGOOD_HOME, else\n"
    "                       $XDG_STATE_HOME/lastgood, else ~/.local/state/lastgood)\n"
    "  --threads N          worker threads (default: one per core)\n"
    "  --admin ADDR         address for GET /metrics (default 127.0.0.1:0; \"\" disables)\n"
    "  --max-connections N  client connections before new ones are refused (default 20000)\n"
    "  --take-over          replace the router running for this home without a failed\n"
    "                       request: take its listening sockets, serve, let it drain\n";

std::string DefaultHome() {
  if (const char* h = getenv("LASTGOOD_HOME"); h && *h) return h;
  if (const char* x = getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/lastgood";
  if (const char* home = getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/state/lastgood";
  }
  return "";
}

bool ParsePositive(const char* text, int* out) {
  char* end = nullptr;
  long v = strtol(text, &end, 10);
  if (!*text || *end || v <= 0 || v > 1'000'000) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int RouterMain(int argc, char** argv) {
  RouterOptions options;
  options.home = DefaultHome();
  // --worker: started by the keeper, its channel to it on stdin (router/keeper.h).
  // --adopt-worker PID: a keeper started by a worker whose keeper died, its channel on stdin.
  bool take_over = false, worker = false;
  int adopt = 0;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    size_t eq = flag.find('=');
    bool inline_value = flag.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "-h" || flag == "--help") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (flag == "--take-over" || flag == "--worker") {
      (flag == "--worker" ? worker : take_over) = true;
      continue;
    }
    bool takes_value = flag == "--home" || flag == "--threads" || flag == "--admin" ||
                       flag == "--max-connections" || flag == "--adopt-worker";
    if (!takes_value) {
      fprintf(stderr, "lastgood router: unknown argument '%s'\n%s", argv[i], kUsage);
      return 2;
    }
    if (!inline_value) {
      if (i + 1 >= argc) {
        fprintf(stderr, "lastgood router: %s needs a value\n%s", flag.c_str(), kUsage);
        return 2;
      }
      value = argv[++i];
    }
    if (flag == "--home") {
      options.home = value;
    } else if (flag == "--admin") {
      options.admin = value;
    } else if (flag == "--adopt-worker" && !ParsePositive(value.c_str(), &adopt)) {
      fprintf(stderr, "lastgood router: --adopt-worker wants a pid, not '%s'\n", value.c_str());
      return 2;
    } else if (flag == "--threads" && !ParsePositive(value.c_str(), &options.threads)) {
      fprintf(stderr, "lastgood router: --threads wants a positive number, not '%s'\n",
              value.c_str());
      return 2;
    } else if (flag == "--max-connections" &&
               !ParsePositive(value.c_str(), &options.max_connections)) {
      fprintf(stderr, "lastgood router: --max-connections wants a positive number, not '%s'\n",
              value.c_str());
      return 2;
    }
  }
  if (options.home.empty()) {
    fprintf(stderr, "lastgood router: no home directory; pass --home or set LASTGOOD_HOME\n");
    return 2;
  }
  if (worker) {
    options.keeper_channel = 0;
    return RunRouter(options);
  }
  if (adopt > 0) return RunKeeper(options, false, adopt);
  return RunKeeper(options, take_over);
}

}  // namespace lastgood
