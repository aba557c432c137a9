// UnixHttpCall: one HTTP/1.1 request over a unix socket, with `Connection: close` and a
// deadline on every blocking call — how the controller asks a node (over the socket ssh
// forwards) and how tools ask local daemons. Plain blocking sockets: a few calls a second
// per peer, and no Asio in the callers' compile.
//
// Thread-safe: no shared state.
#pragma once

#include <string>

#include "base/duration.h"
#include "base/result.h"

namespace lastgood {

inline constexpr size_t kMaxUnixHttpResponse = 64 * 1024 * 1024;

struct HttpReply {
  int status = 0;
  std::string body;
};

// Sends `method target` with `body` (JSON when not empty) to the server on `socket_path`
// and reads the whole response within `timeout`. Unavailable (saying which step failed:
// connect, send, read) when the socket does not answer, answers too slowly, or answers
// something that is not HTTP; any HTTP status is a reply. `peer` names what answers there in
// the error ("cannot connect to the router at PATH: ..."), so that an operator reads which
// daemon is down, not only a path.
Result<HttpReply> UnixHttpCall(const std::string& socket_path, const std::string& method,
                               const std::string& target, const std::string& body, Millis timeout,
                               const std::string& peer = "");

// The Error of a reply that is not 2xx: its {"error": {"code", "message", "field"}} if the
// body has one, else "<what> answered <status>".
Error ErrorFromReply(const HttpReply& reply, const std::string& what);

}  // namespace lastgood
