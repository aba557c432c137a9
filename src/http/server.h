// http::Server: the controller's one HTTP/1.1 serve loop (Beast), for every listener the
// controller has — the API's unix socket, its --listen TCP address (plain or TLS) and the
// dashboard (issue 12: one loop instead of three). Each listener has its own handler and its
// own limits, so that a flood on one never takes the capacity of another (issue 11 A3: a
// flood of TCP clients or long-polls never stops a local `lastgood rollback`):
//
//   - at most maxConnections at once, and maxPerAddress from one peer address; a connection
//     over either is answered 503 and closed at once;
//   - deadlines: a TLS handshake and the first request's header within firstHeader of the
//     accept (slowloris), a body within body, an answer written within write, and the next
//     request's header within idle; a peer that misses one is closed.
//
// A connection is served by a thread of its own running its own io_context: handlers may
// block (a long-poll, a store write) without holding anyone else up. A handler that throws
// is answered 500 and logged; the connection and the server go on.
//
// Thread-safety: Listen* before Start; Stop from any thread, idempotent, returns once no
// connection is served (or after kStopWait). The destructor stops.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"

namespace lastgood::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

inline constexpr std::chrono::seconds kStopWait{35};

// Who is at the other end of a connection.
struct Peer {
  std::string address;  // "127.0.0.1:53122", "[::1]:53122", or "unix"
  std::string host;     // "127.0.0.1", "::1", or "unix": what maxPerAddress counts by
  // A unix socket's peer as the kernel says (SO_PEERCRED); `credentials` false when it did
  // not say (then uid, gid and pid mean nothing).
  bool credentials = false;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

// An answer that goes on after its head (server-sent events): the server writes `head`,
// then every `tick` calls `next` and writes what it returns, until `next` returns nullopt,
// the peer leaves, a write misses its deadline, or the server stops.
struct Stream {
  std::string head;  // the whole HTTP head and any first bytes
  std::function<std::optional<std::string>()> next;
  std::chrono::milliseconds tick{1000};
};

struct Answer {
  Response response;             // ignored when `stream` is set
  std::optional<Stream> stream;  // set: the connection is the stream's until it ends
  Answer() = default;
  Answer(Response r) : response(std::move(r)) {}  // NOLINT: implicit by design
};

using Handler = std::function<Answer(const Peer& peer, Request& request)>;

// The receiving end of a request body taken as it arrives instead of held whole (an artifact
// upload of gigabytes). Called on the connection's thread, in order: Write for each piece,
// then Finish once.
class BodySink {
 public:
  enum class End {
    kComplete,  // the whole body arrived
    kTooLarge,  // the body is longer than limit() (said by its Content-Length, or as it came)
    kStopped,   // a Write returned false
    kBroken,    // the peer left or missed a deadline: nothing can be answered
  };
  virtual ~BodySink() = default;
  // The most bytes the sink takes.
  virtual uint64_t limit() const = 0;
  // Takes the next bytes; false stops reading the body (Finish says why).
  virtual bool Write(const char* data, size_t size) = 0;
  // The answer (ignored for kBroken). The connection closes after any end but kComplete.
  virtual Answer Finish(End end) = 0;
};

// What the listener's BodyTaker decided for a request whose header has arrived.
struct BodyTake {
  std::unique_ptr<BodySink> sink;  // the body goes there as it arrives
  Answer refusal;                  // without a sink: sent at once, the body never read
};

// Asked with each request's header, before its body is read: nullopt to read the body whole
// (within Limits::bodyBytes) and call the Handler, as for any request; else a BodyTake.
// Each piece of a taken body must arrive within Limits::idle.
using BodyTaker = std::function<std::optional<BodyTake>(const Peer& peer, const Request& header)>;

struct Limits {
  int maxConnections = 64;
  int maxPerAddress = 0;  // 0: no limit by address
  std::chrono::milliseconds firstHeader{5000};
  std::chrono::milliseconds idle{30'000};
  std::chrono::milliseconds body{30'000};
  std::chrono::milliseconds write{30'000};
  size_t headerBytes = 16 * 1024;
  size_t bodyBytes = 2 << 20;
  std::string name = "http";  // in log lines: "the unix socket", "--listen", "the dashboard"
};

class Server {
 public:
  Server();
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds a unix socket at `path` (a stale file there is replaced), mode 0600 from the start.
  // Unavailable if it cannot be bound. `taker` (may be empty) takes bodies as they arrive.
  Status ListenUnix(const std::string& path, Limits limits, Handler handler, BodyTaker taker = {});
  // Binds a TCP endpoint; with `tls`, speaks TLS only. Unavailable if it cannot be bound.
  // Returns the bound address ("127.0.0.1:43117", the port chosen for port 0).
  Result<std::string> ListenTcp(const boost::asio::ip::tcp::endpoint& endpoint, Limits limits,
                                Handler handler,
                                std::optional<boost::asio::ssl::context> tls = std::nullopt,
                                BodyTaker taker = {});
  // Starts accepting on every listener, each on a thread of its own.
  void Start();
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A line in the controller's log ("lastgood serve: …" on stderr).
void Log(const std::string& line);

// "host:port" or "[v6]:port" → an endpoint; InvalidInput naming `flag` otherwise.
Result<boost::asio::ip::tcp::endpoint> ParseEndpoint(const std::string& text,
                                                     const std::string& flag);
// "127.0.0.1:7443", "[::1]:7443".
std::string Describe(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace lastgood::http
