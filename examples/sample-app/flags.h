// Command-line flags of lastgood-sample. Every flag takes a value, given as `--flag value` or
// `--flag=value`; a flag given twice keeps its last value. --port falls back to the PORT
// environment variable. Parsing is pure (no I/O) so that it can be tested without a process.
//
// Thread-safety: plain values and a pure function.
#pragma once

#include <cstdint>
#include <string>

namespace sample {

struct Options {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal to listen on
  int port = -1;                   // 0..65535; 0 lets the kernel pick
  std::string label = "v1";        // printable ASCII, no control characters
  double fail_rate = 0;            // probability in [0, 1] that GET / answers 500
  int64_t latency_ms = 0;          // delay of every GET / response
  int64_t startup_ms = 0;          // sleep before binding the port
  bool crash_on_start = false;     // exit(1) before doing anything else
  bool healthy = true;             // GET /healthz answers 200 when true, 500 when false
};

struct FlagsOutcome {
  Options options;
  std::string error;  // empty on success; else one line saying which flag is wrong and why
};

// Parses argv[1..argc). `env_port` is the value of $PORT or nullptr when unset.
FlagsOutcome ParseFlags(int argc, const char* const* argv, const char* env_port);

// Multi-line usage text for error messages.
extern const char kUsage[];

}  // namespace sample
