// RouterControl over the router's unix control socket (protocol in router/control.h).
// One request per connection (`Connection: close`) with blocking calls bounded by a deadline:
// the controller makes a few of these calls a second at most, so plain sockets do, and this
// file stays cheap to compile (Beast/Asio cost ~20 s of CPU here).
#include <sys/socket.h>
#include <sys/un.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "router/control.h"

namespace lastgood {
namespace {

using Clock = std::chrono::steady_clock;

// Persisting a table takes an fsync; a stats read is quick.
constexpr std::chrono::seconds kApplyTimeout{10};
constexpr std::chrono::seconds kQueryTimeout{5};
constexpr size_t kResponseLimit = 64 * 1024 * 1024;

struct Reply {
  int status = 0;
  std::string body;
};

// Bounds the next blocking call on `fd` by what is left until `deadline`.
bool ArmTimeout(int fd, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  timeval tv{static_cast<time_t>(left.count() / 1000000),
             static_cast<suseconds_t>(left.count() % 1000000)};
  return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 &&
         setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

std::string ErrnoText(int err) {
  return err == EAGAIN || err == EWOULDBLOCK ? "timed out" : std::strerror(err);
}

// The Content-Length of a response head (lowercase field names compared), if any.
std::optional<size_t> ContentLength(std::string_view head) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    auto line = head.substr(pos, head.find("\r\n", pos) - pos);
    constexpr std::string_view kName = "content-length:";
    if (line.size() < kName.size()) continue;
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (!match) continue;
    size_t value = 0;
    bool digits = false;
    for (char c : line.substr(kName.size())) {
      if (c == ' ' || c == '\t') continue;
      if (c < '0' || c > '9' || value > kResponseLimit) return std::nullopt;
      value = value * 10 + static_cast<size_t>(c - '0');
      digits = true;
    }
    if (digits) return value;
    return std::nullopt;
  }
  return std::nullopt;
}

class ControlClient : public RouterControl {
 public:
  explicit ControlClient(std::string path) : path_(std::move(path)) {}

  Status Apply(const RoutingTable& table) override {
    auto reply = Call("PUT", "/v1/table", TableToJson(table), kApplyTimeout);
    if (!reply.ok()) return reply.error();
    return reply->status == 200 ? Status::Ok() : Status(ToError(*reply));
  }

  Result<RouterStats> Stats(Millis window) override {
    auto reply =
        Call("GET", "/v1/stats?window=" + std::to_string(window.count()) + "ms", "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    if (reply->status != 200) return ToError(*reply);
    return StatsFromJson(reply->body);
  }

  Status Ping() override {
    auto reply = Call("GET", "/v1/health", "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    return reply->status == 200 ? Status::Ok() : Status(ToError(*reply));
  }

  Result<RouterHealth> Health() override {
    auto reply = Call("GET", "/v1/health", "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    if (reply->status != 200) return ToError(*reply);
    return HealthFromJson(reply->body);
  }

 private:
  static Error ToError(const Reply& reply) {
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
      const auto& e = j["error"];
      Error error{ErrorCodeFromName(e.value("code", "internal")), e.value("message", ""),
                  e.value("field", ""), 0};
      return error;
    }
    return Error::Internal("router answered " + std::to_string(reply.status));
  }

  Error Failure(const char* step, const std::string& why) const {
    return Error::Unavailable(std::string("cannot ") + step + " the router at " + path_ + ": " +
                              why + " (is `lastgood router` running?)");
  }

  Result<Reply> Call(const char* method, const std::string& target, const std::string& body,
                     std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path) return Failure("connect to", "path too long");
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return Failure("connect to", ErrnoText(errno));
    if (!ArmTimeout(fd.get(), deadline)) return Failure("connect to", "timed out");
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINTR) return Failure("connect to", ErrnoText(errno));
    }

    std::string request =
        std::string(method) + " " + target + " HTTP/1.1\r\nHost: router\r\nConnection: close\r\n";
    if (std::string_view(method) == "PUT") request += "Content-Type: application/json\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    request += body;
    for (size_t sent = 0; sent < request.size();) {
      if (!ArmTimeout(fd.get(), deadline)) return Failure("send to", "timed out");
      ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Failure("send to", ErrnoText(errno));
      sent += static_cast<size_t>(n);
    }

    std::string in;
    size_t head_end = std::string::npos;
    std::optional<size_t> length;
    char chunk[16384];
    for (;;) {
      if (head_end != std::string::npos && length && in.size() >= head_end + *length) break;
      if (!ArmTimeout(fd.get(), deadline)) return Failure("read from", "timed out");
      ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Failure("read from", ErrnoText(errno));
      if (n == 0) break;
      in.append(chunk, static_cast<size_t>(n));
      if (in.size() > kResponseLimit) return Failure("read from", "response too large");
      if (head_end == std::string::npos) {
        head_end = in.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          head_end += 4;
          length = ContentLength(std::string_view(in).substr(0, head_end));
        }
      }
    }
    // "HTTP/1.1 200 OK": the status is the three digits after the first space.
    if (head_end == std::string::npos || in.compare(0, 5, "HTTP/") != 0 || in.size() < 12 ||
        in[8] != ' ') {
      return Failure("read from", "malformed response");
    }
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
      if (in[i] < '0' || in[i] > '9') return Failure("read from", "malformed response");
      status = status * 10 + (in[i] - '0');
    }
    std::string reply_body = in.substr(head_end);
    if (length) {
      if (reply_body.size() < *length) return Failure("read from", "response cut short");
      reply_body.resize(*length);
    }
    return Reply{status, std::move(reply_body)};
  }

  const std::string path_;
};

}  // namespace

std::unique_ptr<RouterControl> NewRouterControlClient(const std::string& socket_path) {
  return std::make_unique<ControlClient>(socket_path);
}

}  // namespace lastgood
