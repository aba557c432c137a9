// AdminServer: the router's admin TCP address, serving GET /metrics (Prometheus text) and
// nothing else. It runs on an io_context and thread of its own, so a scrape, or a flood of
// connections to this port, never delays a table change on the control socket; it takes
// no request bodies (413, then close), at most kAdminMaxConnections connections at once
// (more are reset at accept), and heads of at most 8 KiB.
// Thread-compatible: start and close from one thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"

namespace lastgood {

inline constexpr int kAdminMaxConnections = 16;

class AdminServer {
 public:
  virtual ~AdminServer() = default;
  // The address bound ("127.0.0.1:40123").
  virtual std::string Address() const = 0;
  // Stops accepting; open connections end with their current request.
  virtual void Close() = 0;
};

// Serves on `fd` when it is a listening socket (>= 0, taken over from another router
// process), else binds `address`. `metrics` renders the body of GET /metrics.
Result<std::unique_ptr<AdminServer>> StartAdminServer(boost::asio::io_context& io,
                                                      const std::string& address, int fd,
                                                      std::function<std::string()> metrics);

}  // namespace lastgood
