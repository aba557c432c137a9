// Driving a controller that serves `--listen` as a remote client would: the TCP address it
// logged, the CLI with LASTGOOD_SERVER and LASTGOOD_TOKEN (as a CI job runs it), tokens made
// by the local admin, and the audit read back.
//
// Thread-safety: as Lastgood, owned by one test thread.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "testutil/lastgood.h"

namespace lastgood::testutil {

// The TCP address the controller logged: "serving the API on http://127.0.0.1:PORT".
inline std::string ServedUrl(const Lastgood& lg) {
  std::string url;
  WaitUntil(
      [&] {
        for (const auto& e : std::filesystem::directory_iterator(lg.home())) {
          std::string text = ReadFile(e.path().string());
          std::smatch m;
          if (e.path().filename().string().rfind("serve.err", 0) == 0 &&
              std::regex_search(text, m, std::regex("serving the API on (https?://[0-9.:]+)"))) {
            url = m[1];
          }
        }
        return !url.empty();
      },
      std::chrono::seconds(5), std::chrono::milliseconds(20));
  return url;
}

inline int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

struct RemoteRun {
  std::vector<std::string> args;
  int code = -1;  // -1: killed or timed out
  std::string out, err;
  // The command, its exit and its output: what an assertion's message shows.
  std::string Context() const {
    std::string cmd = "lastgood";
    for (const auto& a : args) cmd += " " + a;
    return "\n$ " + cmd + "\nexit " + std::to_string(code) + "\nstdout:\n" + out + "stderr:\n" +
           err;
  }
};

// `binary args...` against `server` with `token` in LASTGOOD_TOKEN ("" = unset), run in `cwd`
// ("" = inherit), killed after `timeout`.
inline RemoteRun Remote(const Lastgood& lg, const std::string& server, const std::string& token,
                        std::vector<std::string> args, const std::string& cwd = "",
                        std::chrono::milliseconds timeout = std::chrono::seconds(20),
                        const std::string& binary = kLastgoodBinary) {
  ProcessOptions o;
  o.argv = {binary};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.cwd = cwd;
  o.env = {{"LASTGOOD_HOME", lg.home() + "/elsewhere"}, {"LASTGOOD_SERVER", server}};
  if (token.empty()) {
    o.unset_env = {"LASTGOOD_TOKEN"};
  } else {
    o.env["LASTGOOD_TOKEN"] = token;
  }
  static int n = 0;
  std::string base = lg.home() + "/remote." + std::to_string(++n);
  o.stdout_path = base + ".out";
  o.stderr_path = base + ".err";
  Process p(o);
  RemoteRun r;
  r.args = args;
  auto st = p.Wait(timeout);
  if (st && st->exited()) r.code = st->code;
  r.out = ReadFile(o.stdout_path);
  r.err = ReadFile(o.stderr_path);
  return r;
}

// A new token of `role`, made by the local admin over the unix socket.
inline std::string MakeToken(Lastgood& lg, const std::string& name, const std::string& role) {
  lg.Run({"token", "create", "--name", name, "--role", role}).ExitCode(0);
  std::string token = lg.last().out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  EXPECT_EQ(token.rfind("lgt_", 0), 0u) << token;
  return token;
}

// The newest audit entry (read as the local admin) whose action is `action`.
inline nlohmann::json LastAudit(Lastgood& lg, const std::string& action) {
  for (const auto& e : lg.Json({"audit", "--limit", "100"})) {
    if (e.value("action", "") == action) return e;
  }
  return nullptr;
}

}  // namespace lastgood::testutil
