// What every verb shares: the global options and the two output forms (text for people,
// `-o json` for scripts, DESIGN.md section 5), and the mapping of errors to exit codes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/client.h"

namespace lastgood::cli {

// The home of the controller that the Debian package runs (packaging/lastgood.service).
inline constexpr char kPackagedHome[] = "/var/lib/lastgood";

struct Globals {
  std::string home;    // --home (resolved with LASTGOOD_HOME etc. by Home())
  std::string output;  // "" (text) or "json"
  // A controller over TCP (docs/security.md): --server / LASTGOOD_SERVER; the token comes
  // from --token-file, else LASTGOOD_TOKEN (never a flag: argv shows in `ps`).
  std::string server;
  std::string tokenFile;
  std::string cacert;
  bool insecure = false;  // --insecure: a token may go over http:// to a remote address
  Millis timeout = kDefaultAnswerTimeout;  // --timeout: how long an answer may keep us waiting
  bool json() const { return output == "json"; }
  std::string Home() const;
  // The home whose controller a client verb talks to: Home(), except that when neither
  // --home nor LASTGOOD_HOME is given and the user's own home runs no controller, the
  // packaged controller's (kPackagedHome, the systemd unit's state directory) if it runs.
  std::string ClientHome() const;
  ApiClient Client() const;
};

// Prints the error (text: "lastgood: field (line N): message"; json: {"error": …} on
// stderr) and returns its exit code.
int Fail(const Globals& g, const Error& e);

// Prints a JSON value on stdout, pretty.
void PrintJson(const nlohmann::json& j);

// Prints rows as aligned columns, the first row being the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// "2026-11-27T22:53:10.123Z" → "2026-11-27 22:53:10"; null → "-".
std::string ShortTime(const nlohmann::json& t);
// 1234 → "1.23s", 45 → "45ms".
std::string ShortDuration(int64_t millis);

}  // namespace lastgood::cli
