// The router: lastgood's data plane (DESIGN.md section 3, issue 3). An HTTP/1.1 reverse
// proxy that routes each request by the routing table the controller pushes over the
// control socket, records statistics per app/slot/version/backend, and serves /metrics.
// docs/router.md describes its behaviour, the table, the control protocol and the limits.
//
// RunRouter is the process: it runs until SIGTERM/SIGINT. Router is the same thing as an
// object, for tests that run a router inside their own process. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "router/health_report.h"
#include "router/stats.h"
#include "router/table.h"

namespace lastgood {

inline constexpr std::chrono::milliseconds kDefaultHeaderTimeout{10'000};
inline constexpr std::chrono::milliseconds kDefaultIdleTimeout{60'000};
inline constexpr std::chrono::milliseconds kDefaultConnectTimeout{2'000};
inline constexpr std::chrono::milliseconds kDefaultResponseTimeout{30'000};
inline constexpr std::chrono::milliseconds kDefaultShutdownGrace{10'000};
inline constexpr size_t kDefaultMaxHeaderBytes = 16 * 1024;
inline constexpr size_t kDefaultMaxHeaderFields = 100;
inline constexpr int kDefaultMaxConnections = 20'000;
inline constexpr int kDefaultMaxIdleUpstreamsPerBackend = 256;
// Idle upstream connections older than this are closed rather than reused: servers close
// idle keep-alive connections after a few seconds (Node.js: 5 s).
inline constexpr std::chrono::milliseconds kDefaultUpstreamIdleTimeout{4'000};
inline constexpr size_t kControlBodyLimit = 4 * 1024 * 1024;

struct RouterOptions {
  std::string home;  // holds router.sock, router.pid, router.admin, router-table.json
  int threads = 0;   // 0: one per core
  std::string admin = "127.0.0.1:0";                                   // GET /metrics; "" disables
  std::chrono::milliseconds header_timeout = kDefaultHeaderTimeout;    // whole request head
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;        // keep-alive, body gaps
  std::chrono::milliseconds connect_timeout = kDefaultConnectTimeout;  // to a backend
  std::chrono::milliseconds response_timeout = kDefaultResponseTimeout;  // backend's head
  std::chrono::milliseconds upstream_idle_timeout = kDefaultUpstreamIdleTimeout;
  std::chrono::milliseconds shutdown_grace = kDefaultShutdownGrace;
  size_t max_header_bytes = kDefaultMaxHeaderBytes;
  size_t max_header_fields = kDefaultMaxHeaderFields;
  int max_connections = kDefaultMaxConnections;  // client connections, all listeners
  int max_idle_upstreams_per_backend = kDefaultMaxIdleUpstreamsPerBackend;
  // A worker started by the keeper (router/keeper.h): its channel to the keeper, which hands
  // it the listening sockets at start and holds a copy of each socket it binds. -1: none (a
  // router on its own, as tests run it in-process).
  int keeper_channel = -1;
};

class Router {
 public:
  // Creates <home>, opens the control socket (mode 0600) and the admin address, loads
  // <home>/router-table.json if present, and starts serving. Writes router.pid and
  // router.admin.
  static Result<std::unique_ptr<Router>> Start(const RouterOptions& options);
  virtual ~Router() = default;

  // Validated, persisted, then in force for new requests when this returns. Listeners
  // present in the old and the new table keep their sockets. Nothing changes on error.
  virtual Result<uint64_t> Apply(const RoutingTable& table) = 0;
  virtual RouterStats Stats(std::chrono::milliseconds window) = 0;
  // The port a table listener is bound to (useful when its address has port 0); 0 if none.
  virtual uint16_t ListenerPort(const std::string& address) = 0;
  // The admin address actually bound ("127.0.0.1:40123"), or "" when disabled.
  virtual std::string AdminAddress() = 0;
  // What GET /v1/health answers: generation, pid, build, the listeners' states.
  virtual RouterHealth Health() = 0;
  // A drain: stops accepting and closes the control socket and admin address (a successor
  // takes them), tells the keeper if there is one, answers the requests in flight and the
  // next request of each keep-alive connection (with Connection: close) within the grace
  // period, closes connections idle for kDrainIdleCloseMillis, stops.
  virtual void Shutdown() = 0;
};

// Runs a router until SIGTERM or SIGINT, then drains; returns the process exit code (0 after
// a clean stop). Under a keeper (options.keeper_channel) this is the worker.
int RunRouter(const RouterOptions& options);

// `lastgood router [--home DIR] [--threads N] [--admin ADDR] [--max-connections N]
// [--take-over]`: the keeper and its worker (router/keeper.h).
int RouterMain(int argc, char** argv);

}  // namespace lastgood
