// ApiServer: serves Api over HTTP/1.1 on a unix socket (mode 0600: its peer is the local
// admin, DESIGN.md and issue 5). One thread per connection — the controller's API sees a
// handful of clients, and long-polls block. Thread-safe; Stop() may be called from any
// thread and returns once no connection is being served.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "api/handlers.h"
#include "base/result.h"

namespace lastgood {

inline constexpr int kMaxApiConnections = 64;

class ApiServer {
 public:
  explicit ApiServer(Api* api);
  ~ApiServer();

  // Binds the socket at `path` (replacing a stale one) with mode 0600.
  Status Listen(const std::string& path);
  // Accepts and serves until Stop().
  void Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lastgood
