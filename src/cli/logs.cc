// `lastgood logs APP [--slot S] [--version N] [--instance ID] [--host H] [--since 10m] [--tail N]
// [-f]`:
// the output of an app's instances (GET /v1/apps/{app}/logs), on this machine and on the
// fleet hosts that run it, stdout to stdout and stderr to stderr, each line prefixed with its
// instance (and its host, for a fleet host's) when more than one instance is shown. -f
// follows, asking again every half second from where the last answer ended, until
// interrupted.
#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "api/instance_logs.h"
#include "base/duration.h"
#include "base/percent_encode.h"
#include "cli/client.h"
#include "cli/verbs.h"
#include "wire/json_text.h"

namespace lastgood::cli {
namespace {

constexpr auto kFollowPoll = std::chrono::milliseconds(500);

struct LogsFlags {
  std::string app;
  std::string slot;
  int version = 0;
  std::string instance;
  std::string host;
  std::string since;
  int tail = 0;
  bool follow = false;
};

// Prints a chunk's lines, each with `prefix` (text), or one JSON object a line (-o json).
void PrintChunk(const Globals& g, const nlohmann::json& chunk, bool prefix) {
  const std::string instance = chunk.value("instance", "");
  const std::string stream = chunk.value("stream", "");
  const std::string text = chunk.value("text", "");
  const std::string host = chunk.value("host", "");  // "": the controller's machine
  std::ostream& out = stream == "err" && !g.json() ? std::cerr : std::cout;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (g.json()) {
      out << DumpJson({{"host", host.empty() ? "local" : host},
                       {"instance", instance},
                       {"stream", stream},
                       {"line", line}})
          << "\n";
    } else {
      out << (prefix ? (host.empty() ? "" : host + " ") + instance + " | " : "") << line << "\n";
    }
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  out.flush();
}

int RunLogs(const Globals& g, const LogsFlags& f) {
  std::string query = "?";
  if (!f.host.empty()) query += "host=" + PercentEncode(f.host) + "&";
  if (!f.slot.empty()) query += "slot=" + PercentEncode(f.slot) + "&";
  if (f.version > 0) query += "version=" + std::to_string(f.version) + "&";
  if (!f.instance.empty()) query += "instance=" + PercentEncode(f.instance) + "&";
  std::string since;
  if (!f.since.empty()) {
    auto d = ParseDuration(f.since);
    if (!d.ok() || d->count() <= 0)
      return Fail(
          g, Error::InvalidInput("--since " + f.since + ": give how long ago, like 30s, 10m or 2h",
                                 "--since"));
    since = "since=" + std::to_string(d->count()) + "&";
  }
  if (f.tail < 0 || f.tail > kMaxTailLines)
    return Fail(
        g, Error::InvalidInput(
               "--tail is a number of lines from 1 to " + std::to_string(kMaxTailLines), "--tail"));
  if (f.tail > 0) since += "tail=" + std::to_string(f.tail) + "&";
  if (!f.follow) query += "partial=true&";
  ApiClient client = g.Client();
  std::string cursor;
  bool first = true;  // --since and --tail are asked once; then the cursor says where to go on
  std::set<std::string> shown;  // instances whose lines were printed, for the prefix rule
  bool prefix = false;
  std::string unreachable;  // the hosts last said to be unreachable, told once each time
  while (true) {
    std::string target = "/v1/apps/" + PercentEncode(f.app) + "/logs" + query +
                         (first ? since : "cursor=" + cursor + "&");
    target.pop_back();  // the last '&' (or the lone '?')
    auto read = client.Get(target);
    if (!read.ok()) return Fail(g, read.error());
    first = false;
    // Prefixed once more than one instance is shown (a -f that sees a second instance start
    // prefixes from then on).
    if ((*read)["instances"].size() > 1) prefix = true;
    std::string now_unreachable;
    for (const auto& u : (*read)["unreachable"]) {
      now_unreachable += u.value("host", "") + ": " + u.value("problem", "") + "\n";
    }
    if (now_unreachable != unreachable && !now_unreachable.empty()) {
      std::cerr << "lastgood: the output of these hosts is not shown, they cannot be asked:\n"
                << now_unreachable;
    }
    unreachable = now_unreachable;
    for (const auto& chunk : (*read)["chunks"]) {
      shown.insert(chunk.value("instance", ""));
      if (shown.size() > 1) prefix = true;
      PrintChunk(g, chunk, prefix);
    }
    cursor = read->value("cursor", "");
    if (read->value("more", false)) continue;
    // What could be read was printed; a host that could not be asked still fails the command,
    // so that a script does not take part of the output for all of it.
    if (!f.follow) return unreachable.empty() ? 0 : ExitCodeFor(ErrorCode::kUnavailable);
    std::this_thread::sleep_for(kFollowPoll);
  }
}

}  // namespace

void AddLogsVerb(CLI::App& app, Globals& g, int* exit_code) {
  auto f = std::make_shared<LogsFlags>();
  auto* cmd = app.add_subcommand("logs", "print the output of an app's instances");
  cmd->add_option("app", f->app, "the app")->required();
  cmd->add_option("--slot", f->slot, "only the instances of this slot");
  cmd->add_option("--version", f->version, "only the instances of this version (also stopped)");
  cmd->add_option("--instance", f->instance, "only this instance (also stopped)");
  cmd->add_option("--host", f->host, "only the instances on this fleet host");
  cmd->add_option("--since", f->since, "only what was written in the last 30s, 10m, 2h");
  cmd->add_option("--tail", f->tail, "only the last N lines of each instance's stdout and stderr");
  cmd->add_flag("-f,--follow", f->follow, "go on printing new output until interrupted");
  cmd->callback([&g, f, exit_code] { *exit_code = RunLogs(g, *f); });
}

}  // namespace lastgood::cli
