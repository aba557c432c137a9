// The router's two small HTTP/1.1 servers, both on the control thread's io_context:
// - the control socket <home>/router.sock (unix, mode 0600): PUT /v1/table,
//   GET /v1/stats?window=10s, GET /v1/health (protocol in router/control.h);
// - the admin TCP address: GET /metrics (Prometheus text).
// Errors are JSON {"error":{"code","message","field"}}. Request bodies are limited to
// kControlBodyLimit. Thread-compatible: start and close from one thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/duration.h"
#include "base/result.h"
#include "router/stats.h"
#include "router/table.h"

namespace lastgood {

struct ControlHandlers {
  std::function<Result<uint64_t>(const RoutingTable&)> apply;
  std::function<RouterStats(Millis)> stats;
  std::function<uint64_t()> generation;
  std::function<std::string()> metrics;
};

class ControlServer {
 public:
  virtual ~ControlServer() = default;
  // The admin address bound, "" when disabled.
  virtual std::string AdminAddress() const = 0;
  // Stops accepting on both; open control connections end with their current request.
  virtual void Close() = 0;
};

// REQUIRES: the directory of `socket_path` exists. A stale socket file is replaced; a live
// one (another router answers on it) is an error. `admin` "" disables the admin server.
Result<std::unique_ptr<ControlServer>> StartControlServer(boost::asio::io_context& io,
                                                          const std::string& socket_path,
                                                          const std::string& admin,
                                                          ControlHandlers handlers);

}  // namespace lastgood
