#include "base/unix_http.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "base/fd.h"

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Bounds the next blocking call on `fd` by what is left until `deadline`.
bool ArmTimeout(int fd, SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return false;
  timeval tv{static_cast<time_t>(left.count() / 1000000),
             static_cast<suseconds_t>(left.count() % 1000000)};
  return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 &&
         setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

std::string ErrnoText(int err) {
  return err == EAGAIN || err == EWOULDBLOCK ? "timed out" : std::strerror(err);
}

// The Content-Length of a response head (field names compared without case), if any.
std::optional<size_t> ContentLength(std::string_view head) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    auto line = head.substr(pos, head.find("\r\n", pos) - pos);
    constexpr std::string_view kName = "content-length:";
    if (line.size() < kName.size()) continue;
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    if (!match) continue;
    size_t value = 0;
    bool digits = false;
    for (char c : line.substr(kName.size())) {
      if (c == ' ' || c == '\t') continue;
      if (c < '0' || c > '9' || value > kMaxUnixHttpResponse) return std::nullopt;
      value = value * 10 + static_cast<size_t>(c - '0');
      digits = true;
    }
    return digits ? std::optional<size_t>(value) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

Result<HttpReply> UnixHttpCall(const std::string& socket_path, const std::string& method,
                               const std::string& target, const std::string& body, Millis timeout,
                               const std::string& peer) {
  auto fail = [&](const char* step, const std::string& why) {
    return Error::Unavailable(std::string("cannot ") + step + " " +
                              (peer.empty() ? "" : peer + " at ") + socket_path + ": " + why);
  };
  const auto deadline = SteadyClock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) return fail("connect to", "path too long");
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return fail("connect to", ErrnoText(errno));
  if (!ArmTimeout(fd.get(), deadline)) return fail("connect to", "timed out");
  while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINTR) return fail("connect to", ErrnoText(errno));
  }
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: lastgood\r\nConnection: close\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  request += body;
  for (size_t sent = 0; sent < request.size();) {
    if (!ArmTimeout(fd.get(), deadline)) return fail("send to", "timed out");
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("send to", ErrnoText(errno));
    sent += static_cast<size_t>(n);
  }
  std::string in;
  size_t head_end = std::string::npos;
  std::optional<size_t> length;
  char chunk[16384];
  for (;;) {
    if (head_end != std::string::npos && length && in.size() >= head_end + *length) break;
    if (!ArmTimeout(fd.get(), deadline)) return fail("read from", "timed out");
    ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("read from", ErrnoText(errno));
    if (n == 0) break;
    in.append(chunk, static_cast<size_t>(n));
    if (in.size() > kMaxUnixHttpResponse) return fail("read from", "response too large");
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
    return fail("read from", in.empty() ? "connection closed" : "malformed response");
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (in[i] < '0' || in[i] > '9') return fail("read from", "malformed response");
    status = status * 10 + (in[i] - '0');
  }
  std::string reply_body = in.substr(head_end);
  if (length) {
    if (reply_body.size() < *length) return fail("read from", "response cut short");
    reply_body.resize(*length);
  }
  return HttpReply{status, std::move(reply_body)};
}

Error ErrorFromReply(const HttpReply& reply, const std::string& what) {
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    auto text = [&](const char* k) {
      return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string();
    };
    return Error{ErrorCodeFromName(text("code")), text("message"), text("field"), 0};
  }
  return Error::Internal(what + " answered " + std::to_string(reply.status));
}

}  // namespace lastgood
