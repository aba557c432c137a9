// ApiServer: serves the API over HTTP/1.1 (the one serve loop, http/server.h) on a unix
// socket (mode 0600: its peer is the local admin, DESIGN.md and issue 5) and, if asked, on a
// TCP address where every request needs a bearer token (checked by Api::Handle), optionally
// over TLS. The two listeners have capacities of their own, so a flood of TCP clients or of
// long-polls never takes the unix socket's (a local `lastgood rollback` always gets in); a
// TCP peer is also limited per address and must send its first request's header (and finish
// its TLS handshake) within a few seconds (issue 11 A3).
//
// Thread-safe; Stop() may be called from any thread and returns once no connection is being
// served. PUT /v1/artifacts/{digest} is taken as its body arrives (Api::BeginUpload), never
// held whole: its size is the API's limit (serve --max-upload-size), not kMaxRequestBody.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/handlers.h"
#include "base/result.h"
#include "http/server.h"

namespace lastgood {

inline constexpr int kMaxUnixConnections = 64;
inline constexpr int kMaxTcpConnections = 64;
inline constexpr int kMaxTcpConnectionsPerAddress = 16;
// A TCP peer must finish its TLS handshake and send its first request's header within this
// time, and the next request within kTcpIdleTimeoutSeconds of the last answer.
inline constexpr int kTcpFirstHeaderTimeoutSeconds = 5;
inline constexpr int kTcpIdleTimeoutSeconds = 30;

struct TcpListenOptions {
  std::string address;  // "127.0.0.1:7443", "[::1]:7443", "0.0.0.0:7443"; port 0: any
  std::string tlsCert;  // PEM certificate chain; both or neither of cert and key
  std::string tlsKey;   // PEM private key
};

// Who a unix socket's peer is, from what the kernel says of it (SO_PEERCRED): the local admin
// only when the kernel named it, its uid is `owner` (the uid that owns the home) and it is not
// deployed code (process/peer.h). With `group` (serve --socket-group), a uid that is a member of
// it by the system's record (api/socket_group.h) is the local admin too, under the same check
// for deployed code. Otherwise nullopt, with `why` set: the request then needs a bearer token,
// as over TCP (issue 11 B3).
std::optional<auth::Principal> UnixPeerPrincipal(const http::Peer& peer, uid_t owner,
                                                 std::optional<gid_t> group, std::string* why);

class ApiServer {
 public:
  explicit ApiServer(Api* api);
  // Serves any handler the same way: how `lastgood node` serves its own API (docs/fleets.md)
  // with the controller's server code.
  explicit ApiServer(ApiHandler handler);
  ~ApiServer();

  // Binds the socket at `path` (replacing a stale one) with mode 0600; with `group`, 0660 and
  // the home 0710, of that group, whose members are admitted (api/socket_group.h).
  Status Listen(const std::string& path, std::optional<gid_t> group = std::nullopt);
  // Binds the TCP address; with a certificate and key, serves TLS (1.2 or newer) only.
  // InvalidInput for a malformed address, a cert without a key (or the reverse), or files
  // that do not load or do not match; Unavailable if the address cannot be bound.
  // REQUIRES: called before Run().
  Status ListenTcp(const TcpListenOptions& options);
  // "127.0.0.1:43117": the bound TCP address (with the port chosen for port 0), or "".
  std::string TcpAddress() const { return tcp_address_; }
  // Accepts and serves until Stop().
  void Run();
  void Stop();

 private:
  // handle_(request), except that what it throws is logged and answered 500: one request
  // never ends the controller (issue 11 A1).
  ApiResponse Answer(const ApiRequest& request);

  // The body taker of a listener whose requests `identify` fills in (who asks): uploads go
  // to upload_ as they arrive. Empty without upload_.
  http::BodyTaker Taker(
      std::function<void(const http::Peer&, const http::Request&, ApiRequest*)> identify);

  ApiHandler handle_;        // Api::Handle, or a node's handler
  ApiUploadHandler upload_;  // Api::BeginUpload for PUT /v1/artifacts/…, or empty
  http::Server server_;
  std::string tcp_address_;
  std::mutex mu_;
  std::condition_variable stopped_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
};

}  // namespace lastgood
