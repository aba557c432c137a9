// Probes: one check of an instance's readiness (http, tcp, exec), bounded by a timeout.
// Pure I/O on loopback; no threads of its own. Thread-safe (no shared state).
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "process/sandbox.h"

namespace lastgood {

struct ProbeSpec {
  enum class Kind { kHttp, kTcp, kExec };
  Kind kind = Kind::kHttp;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/";                                // kHttp
  std::vector<std::string> command;                      // kExec: argv, run without a shell
  std::vector<std::pair<std::string, std::string>> env;  // kExec: extra env (e.g. PORT)
  std::string cwd;                                       // kExec
  Sandbox sandbox;  // kExec: confined as the app's instances are (process/confinement.h)
  // kExec on a fleet host: the node confines it with its own confinement, for this app and
  // run.user ("" for none), as it confines the app's instances there.
  std::string app;
  std::string runUser;
  Millis timeout{1000};
};

struct ProbeResult {
  bool ok = false;
  // What was seen, for records: "http /healthz → 200", "http /healthz → 500",
  // "tcp :4001 → connection refused", "exec ./check → exit 1", "… → timed out after 1s".
  std::string detail;
  int httpStatus = 0;  // kHttp: the status answered, 0 if none
};

// Runs one probe. HTTP success is a 2xx or 3xx status; exec success is exit code 0.
ProbeResult RunProbe(const ProbeSpec& spec);

}  // namespace lastgood
