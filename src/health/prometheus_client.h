// One instant query to a Prometheus server (GET ADDRESS/api/v1/query?query=…, the HTTP API
// every Prometheus-compatible server speaks), for the analysis step's Prometheus queries
// (docs/manifest.md, analysis.prometheus).
//
// http://, or https:// verified against the system's CAs (peer and host name). Every call
// has one deadline for resolving, connecting, the TLS handshake, sending and reading, and
// reads at most kMaxPrometheusAnswer bytes of the answer. Errors: Unavailable when the server
// could not be asked or did not answer well (refused, timed out, 5xx, not the API's JSON) —
// worth asking again later; InvalidInput when it refused the query itself (bad PromQL, an
// execution error, a range vector or string result) — asking again cannot help.
//
// Thread-safe: each call uses its own connection and io_context. Blocks the caller.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"

namespace lastgood {

inline constexpr Millis kPrometheusQueryTimeout{5'000};
inline constexpr size_t kMaxPrometheusAnswer = 1 << 20;

// One value of the answer: an instant vector's sample, or a scalar (no labels).
struct PrometheusSample {
  std::string labels;  // the series' labels as PromQL writes them: {app="web",version="3"}
  double value = 0;    // may be NaN (e.g. 0/0) or ±Inf
};

// An instant vector (empty when no series matched) or a scalar (one sample).
struct PrometheusAnswer {
  std::vector<PrometheusSample> samples;
};

// Where a Prometheus is, from `address` ("http://host:port" with an optional path prefix).
struct PrometheusServer {
  bool tls = false;
  std::string host;         // for resolving: an IPv6 address without its brackets
  std::string port;         // "80" / "443" when the address gives none
  std::string prefix;       // a path prefix without its trailing '/' ("" or "/prometheus")
  std::string host_header;  // host[:port] as written
};

// InvalidInput for anything but http(s)://HOST[:PORT][/PREFIX] without user info, query or
// fragment.
Result<PrometheusServer> ParsePrometheusAddress(const std::string& address);

// Asks `server` for `query` (evaluated at the server's now).
Result<PrometheusAnswer> QueryPrometheus(const PrometheusServer& server, const std::string& query,
                                         Millis timeout = kPrometheusQueryTimeout);

// The answer in an HTTP response of the query API (pure; QueryPrometheus's second half).
Result<PrometheusAnswer> ParsePrometheusAnswer(int http_status, const std::string& body);

}  // namespace lastgood
