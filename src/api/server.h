// ApiServer: serves Api over HTTP/1.1 on a unix socket (mode 0600: its peer is the local
// admin, DESIGN.md and issue 5) and, if asked, on a TCP address where every request needs a
// bearer token (checked by Api::Handle), optionally over TLS. One thread per connection —
// the controller's API sees a handful of clients, and long-polls block. A TCP connection
// has deadlines (handshake, idle between requests) so that a silent peer cannot hold a
// thread. Thread-safe; Stop() may be called from any thread and returns once no connection
// is being served.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/handlers.h"
#include "base/result.h"

namespace lastgood {

inline constexpr int kMaxApiConnections = 64;
// A TCP peer must finish its TLS handshake, and send the next request, within this time.
inline constexpr int kTcpHandshakeTimeoutSeconds = 10;
inline constexpr int kTcpIdleTimeoutSeconds = 30;

struct TcpListenOptions {
  std::string address;  // "127.0.0.1:7443", "[::1]:7443", "0.0.0.0:7443"; port 0: any
  std::string tlsCert;  // PEM certificate chain; both or neither of cert and key
  std::string tlsKey;   // PEM private key
};

class ApiServer {
 public:
  explicit ApiServer(Api* api);
  // Serves any handler the same way: how `lastgood node` serves its own API (docs/fleets.md)
  // with the controller's server code.
  explicit ApiServer(ApiHandler handler);
  ~ApiServer();

  // Binds the socket at `path` (replacing a stale one) with mode 0600.
  Status Listen(const std::string& path);
  // Binds the TCP address; with a certificate and key, serves TLS (1.2 or newer) only.
  // InvalidInput for a malformed address, a cert without a key (or the reverse), or files
  // that do not load or do not match; Unavailable if the address cannot be bound.
  // REQUIRES: called before Run().
  Status ListenTcp(const TcpListenOptions& options);
  // "127.0.0.1:43117": the bound TCP address (with the port chosen for port 0), or "".
  std::string TcpAddress() const;
  // Accepts and serves until Stop().
  void Run();
  void Stop();

  struct Impl;  // api/server_impl.h; named here only for the two halves of the server

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lastgood
