// Blocking HTTP/1.1 client helpers for end-to-end tests, on plain POSIX sockets:
//   FreePort()       a TCP port on 127.0.0.1 that was free a moment ago
//   HttpConnection   one connection: send raw bytes, read responses one by one (keep-alive,
//                    pipelining); understands Content-Length, chunked and read-until-close
//   HttpGet()        one GET on a fresh connection, with Connection: close
// Every call is bounded by a timeout; failures are reported in HttpResponse::error, never
// thrown. Bodies are capped at kMaxResponseBytes.
//
// Thread-safety: an HttpConnection is owned by one thread; the free functions are reentrant.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lastgood::testutil {

constexpr size_t kMaxResponseBytes = 64 * 1024 * 1024;
constexpr std::chrono::milliseconds kDefaultHttpTimeout{2000};

struct HttpResponse {
  int status = 0;                                            // 0 when no response was read
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;
  std::string error;  // "" on success, else what went wrong (refused, timeout, malformed)
  bool ok() const { return error.empty(); }
  // The value of the first header called `name` (case-insensitive), or "".
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (strcasecmp(n.c_str(), name.c_str()) == 0) return v;
    }
    return "";
  }
};

// A port on 127.0.0.1 that was free a moment ago. Another process may take it before the
// caller binds it; tests accept that small race. Returns 0 on failure.
//
// The port is chosen below the kernel's ephemeral range (ip_local_port_range), at random:
// a port the kernel hands out for port 0 is also what every outgoing connection of the
// other tests running at once (load generators, probes, the router's upstream pools) takes
// its source port from, so one of them could take it before our router binds it (seen in
// CI as "Address already in use" on a route's listen address).
inline int FreePort() {
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  const int first = 10000, last = std::max(first + 1000, low - 1);
  static thread_local unsigned seed =
      static_cast<unsigned>(::getpid()) * 2654435761u ^
      static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int attempt = 0; attempt < 200; ++attempt) {
    seed = seed * 1103515245u + 12345u;
    int port = first + static_cast<int>((seed >> 8) % static_cast<unsigned>(last - first + 1));
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

class HttpConnection {
 public:
  HttpConnection() = default;
  ~HttpConnection() { Close(); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects to host:port (an IPv4 literal). Returns "" or an error message.
  std::string Connect(const std::string& host, int port,
                      std::chrono::milliseconds timeout = kDefaultHttpTimeout) {
    Close();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return "bad host " + host;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINPROGRESS) return Fail(std::string("connect: ") + std::strerror(errno));
      if (!PollFor(POLLOUT, Deadline(timeout))) return Fail("connect: timeout");
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return Fail(std::string("connect: ") + std::strerror(err));
    }
    host_header_ = host + ":" + std::to_string(port);
    return "";
  }

  bool connected() const { return fd_ >= 0; }
  // Whether the server has closed (or reset) this idle connection: what browsers and HTTP
  // client libraries check before they reuse one, so that no request is sent on it.
  bool PeerClosed() const {
    if (fd_ < 0) return true;
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char byte;
    ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  // "host:port" as given to Connect, for Host headers.
  const std::string& host_header() const { return host_header_; }

  // Writes all of `bytes`. Returns "" or an error message.
  std::string Send(const std::string& bytes,
                   std::chrono::milliseconds timeout = kDefaultHttpTimeout) {
    auto deadline = Deadline(timeout);
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!PollFor(POLLOUT, deadline)) return "send: timeout";
      } else {
        return std::string("send: ") + std::strerror(errno);
      }
    }
    return "";
  }

  // Reads the next response (skipping 1xx). `head_request` says the request was HEAD, whose
  // response has no body whatever its Content-Length says.
  HttpResponse ReadResponse(std::chrono::milliseconds timeout = kDefaultHttpTimeout,
                            bool head_request = false) {
    auto deadline = Deadline(timeout);
    HttpResponse r;
    while (true) {
      size_t end = 0;
      while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (std::string e = Fill(deadline); !e.empty()) return Error(r, e);
      }
      std::string head = buffer_.substr(0, end + 2);
      buffer_.erase(0, end + 4);
      if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return Error(r, "bad status line");
      r.status = std::atoi(head.c_str() + 9);
      r.headers.clear();
      size_t pos = head.find("\r\n") + 2;
      while (pos < head.size()) {
        size_t eol = head.find("\r\n", pos);
        std::string line = head.substr(pos, eol - pos);
        pos = eol + 2;
        size_t colon = line.find(':');
        if (colon == std::string::npos) return Error(r, "bad header line");
        size_t v = line.find_first_not_of(" \t", colon + 1);
        r.headers.emplace_back(line.substr(0, colon), v == std::string::npos ? "" : line.substr(v));
      }
      if (r.status >= 200) break;
    }
    if (head_request || r.status == 204 || r.status == 304) return r;
    if (strcasecmp(r.Header("Transfer-Encoding").c_str(), "chunked") == 0) {
      return ReadChunked(r, deadline);
    }
    std::string length = r.Header("Content-Length");
    if (!length.empty()) {
      size_t n = std::strtoull(length.c_str(), nullptr, 10);
      if (n > kMaxResponseBytes) return Error(r, "body too large");
      while (buffer_.size() < n) {
        if (std::string e = Fill(deadline); !e.empty()) return Error(r, e);
      }
      r.body = buffer_.substr(0, n);
      buffer_.erase(0, n);
      return r;
    }
    while (true) {  // no length: the body runs to the end of the connection
      std::string e = Fill(deadline);
      if (e == "closed") break;
      if (!e.empty()) return Error(r, e);
    }
    r.body = std::move(buffer_);
    buffer_.clear();
    return r;
  }

  // True when the peer has closed the connection (EOF) within `timeout`, with no bytes first.
  bool WaitForClose(std::chrono::milliseconds timeout = kDefaultHttpTimeout) {
    return buffer_.empty() && Fill(Deadline(timeout)) == "closed" && buffer_.empty();
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

 private:
  using Clock = std::chrono::steady_clock;
  static Clock::time_point Deadline(std::chrono::milliseconds t) { return Clock::now() + t; }

  std::string Fail(std::string error) {
    Close();
    return error;
  }
  static HttpResponse& Error(HttpResponse& r, const std::string& e) {
    r.error = e;
    return r;
  }

  bool PollFor(short events, Clock::time_point deadline) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, events, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
  }

  // Reads more bytes into buffer_. Returns "", "closed" at EOF, "timeout" or an error.
  std::string Fill(Clock::time_point deadline) {
    if (fd_ < 0) return "not connected";
    if (buffer_.size() > kMaxResponseBytes) return "response too large";
    char chunk[16384];
    while (true) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return "";
      }
      if (n == 0) return "closed";
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return std::string("recv: ") + std::strerror(errno);
      if (!PollFor(POLLIN, deadline)) return "timeout";
    }
  }

  HttpResponse ReadChunked(HttpResponse& r, Clock::time_point deadline) {
    while (true) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        if (std::string e = Fill(deadline); !e.empty()) return Error(r, e);
      }
      size_t size = std::strtoull(buffer_.c_str(), nullptr, 16);
      buffer_.erase(0, eol + 2);
      if (size == 0) {  // skip trailers up to the empty line
        while (true) {
          while ((eol = buffer_.find("\r\n")) == std::string::npos) {
            if (std::string e = Fill(deadline); !e.empty()) return Error(r, e);
          }
          buffer_.erase(0, eol + 2);
          if (eol == 0) return r;
        }
      }
      if (r.body.size() + size > kMaxResponseBytes) return Error(r, "body too large");
      while (buffer_.size() < size + 2) {
        if (std::string e = Fill(deadline); !e.empty()) return Error(r, e);
      }
      r.body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  }

  int fd_ = -1;
  std::string buffer_;  // bytes received and not yet returned
  std::string host_header_;
};

// Sends "GET path" with Host and Connection: close plus `headers` to host:port on a new
// connection and reads the response, all within `timeout`.
inline HttpResponse HttpGet(const std::string& host, int port, const std::string& path,
                            const std::vector<std::pair<std::string, std::string>>& headers = {},
                            std::chrono::milliseconds timeout = kDefaultHttpTimeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  HttpConnection c;
  HttpResponse r;
  if (std::string e = c.Connect(host, port, left()); !e.empty()) {
    r.error = e;
    return r;
  }
  std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + c.host_header() + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n";
  if (std::string e = c.Send(request, left()); !e.empty()) {
    r.error = e;
    return r;
  }
  return c.ReadResponse(left());
}

}  // namespace lastgood::testutil
