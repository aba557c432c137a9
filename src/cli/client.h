// ApiClient: the CLI's connection to the controller's /v1 API, over the unix socket
// "<home>/api.sock" (the caller is the local admin) or, with a server URL, over TCP or TLS
// with a bearer token (docs/security.md). A call returns the response's JSON, or the API's
// error as an Error (its code picks the exit code). A 401 or 403 is Unavailable (exit 5,
// "cannot reach or authenticate to the controller", DESIGN.md section 5) with a message
// saying what to do. When the controller is another build than this binary (the build id
// every answer carries, wire/request.h), the first call of the process says so on stderr,
// once. Not thread-safe; one per command.
//
// Transport safety (docs/security.md): a token is never sent over plain http:// to an
// address that is not loopback unless `insecure` is set (InvalidInput, exit 2, before
// anything is sent). Every call has deadlines: the connection (and the name's resolution
// and the TLS handshake) within `connectTimeout`; the answer's first byte within
// `answerTimeout` plus the wait a long-poll asked the controller for, and then no more than
// `answerTimeout` between two reads. A controller that accepts and never answers is
// Unavailable (exit 5), never a hang. A follow (`apply` without --no-wait, `deployment -f`)
// is a series of such long-polls, so it runs as long as the deployment but still notices a
// silent controller within one poll's wait plus `answerTimeout`.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/duration.h"
#include "base/result.h"

namespace lastgood::cli {

inline constexpr Millis kDefaultConnectTimeout{10'000};
inline constexpr Millis kDefaultAnswerTimeout{60'000};

struct Connection {
  std::string socketPath;  // used when `server` is empty
  std::string server;      // "https://host:port" or "http://host:port"; "" = unix socket
  std::string token;       // the bearer token for `server`; never printed
  std::string cacert;      // PEM file of the CA(s) to trust for https; "" = the system's
  std::string problem;     // why there is no token (an unreadable --token-file), or ""
  bool json = false;       // -o json: a warning is a JSON line too
  bool insecure = false;   // --insecure: a token may go over http:// to any address
  Millis connectTimeout = kDefaultConnectTimeout;  // or --timeout when that is shorter
  Millis answerTimeout = kDefaultAnswerTimeout;    // --timeout
};

// A request body read from a file as it is sent (an artifact upload), never held whole.
struct FileBody {
  int fd = -1;        // read from its current offset; not closed
  uint64_t size = 0;  // the Content-Length
  // Called after each piece with the bytes sent so far (a progress line); may be empty.
  std::function<void(uint64_t sent)> progress;
};

class ApiClient {
 public:
  explicit ApiClient(std::string socket_path) { connection_.socketPath = std::move(socket_path); }
  explicit ApiClient(Connection connection) : connection_(std::move(connection)) {}

  // `server_wait`: how long the controller may hold the answer back (a long-poll's wait=).
  Result<nlohmann::json> Get(const std::string& target, Millis server_wait = Millis{0});
  Result<nlohmann::json> Post(const std::string& target, const nlohmann::json& body);
  Result<nlohmann::json> Delete(const std::string& target);
  // A POST whose answer is not JSON (a backup's snapshot): its body as is.
  Result<std::string> PostForBytes(const std::string& target, const nlohmann::json& body);
  // PUT of raw bytes (a secret's value: not JSON, so any bytes pass unaltered).
  Result<nlohmann::json> PutBytes(const std::string& target, const std::string& bytes);
  // PUT of a file's bytes, streamed (an artifact upload).
  Result<nlohmann::json> PutFile(const std::string& target, const FileBody& file);

 private:
  Result<nlohmann::json> Call(const std::string& method, const std::string& target,
                              const std::string& body,
                              const char* content_type = "application/json",
                              const FileBody* file = nullptr, Millis server_wait = Millis{0});
  // The answer's body when its status is 2xx, else the API's error (see above). With
  // `file`, the body is the file's bytes instead of `body`.
  Result<std::string> Exchange(const std::string& method, const std::string& target,
                               const std::string& body,
                               const char* content_type = "application/json",
                               const FileBody* file = nullptr, Millis server_wait = Millis{0});
  // Says once per process, on stderr, that the controller runs another build.
  void WarnOfOtherBuild(const std::string& where, const std::string& build_id);

  Connection connection_;
};

}  // namespace lastgood::cli
