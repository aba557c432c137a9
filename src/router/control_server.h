// The router's control server on the control thread's io_context: the unix socket
// <home>/router.sock (mode 0600) with PUT /v1/table, GET /v1/stats?window=10s and
// GET /v1/health (protocol in router/control.h). The admin port is another server, on
// another thread (admin_server.h). Errors are JSON {"error":{"code","message","field"}}.
// Request bodies are limited to kControlBodyLimit. Thread-compatible: start and close from
// one thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/duration.h"
#include "base/result.h"
#include "router/control.h"
#include "router/stats.h"
#include "router/table.h"

namespace lastgood {

struct ControlHandlers {
  std::function<Result<uint64_t>(const RoutingTable&)> apply;
  std::function<RouterStats(Millis)> stats;
  std::function<RouterHealth()> health;
};

class ControlServer {
 public:
  virtual ~ControlServer() = default;
  // Stops accepting; open control connections end with their current request.
  virtual void Close() = 0;
};

// REQUIRES: the directory of `socket_path` exists. A stale socket file is replaced; a live
// one (another router answers on it) is an error unless `replace_live` (a worker started by
// the keeper takes the path over from its predecessor, router/keeper.h). Close unlinks the
// path only while it is still this server's socket.
Result<std::unique_ptr<ControlServer>> StartControlServer(boost::asio::io_context& io,
                                                          const std::string& socket_path,
                                                          ControlHandlers handlers,
                                                          bool replace_live = false);

}  // namespace lastgood
