// A tiny HTTP/1.1 receiver of webhooks on 127.0.0.1, for tests: it records each request
// (method, target, lower-cased headers, body) and answers the scripted statuses in order
// (then 200), or with `hang`, reads each request and never answers. One connection per
// request (the notifier sends Connection: close). Thread-safe: WaitFor from any thread.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lastgood::testutil {

struct Received {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

// A tiny HTTP/1.1 receiver on 127.0.0.1: answers the scripted statuses in order (then 200),
// or with `hang`, reads each request and never answers.
class Receiver {
 public:
  explicit Receiver(std::vector<int> statuses = {}, bool hang = false)
      : statuses_(std::move(statuses)), hang_(hang) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
    for (int fd : held_) close(fd);
  }

  std::string Url(const std::string& path = "/hooks/lastgood") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // The requests received once there are at least `n`, or all there are after `limit`.
  std::vector<Received> WaitFor(size_t n,
                                std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard lock(mu_);
        if (received_.size() >= n) return received_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      Received r;
      if (!Read(conn, &r)) {
        close(conn);
        continue;
      }
      int status = 200;
      {
        std::lock_guard lock(mu_);
        if (received_.size() < statuses_.size()) status = statuses_[received_.size()];
        received_.push_back(std::move(r));
      }
      if (hang_) {
        held_.push_back(conn);
        continue;
      }
      std::string answer = "HTTP/1.1 " + std::to_string(status) +
                           " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      ssize_t ignored = send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
      (void)ignored;
      close(conn);
    }
  }

  static bool Read(int conn, Received* r) {
    std::string data;
    char buf[4096];
    size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{conn, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return false;
      ssize_t n = recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    std::string head = data.substr(0, head_end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    r->method = request_line.substr(0, request_line.find(' '));
    r->target =
        request_line.substr(r->method.size() + 1, request_line.rfind(' ') - r->method.size() - 1);
    size_t at = line_end + 2;
    while (at < head.size()) {
      size_t end = std::min(head.find("\r\n", at), head.size());
      std::string line = head.substr(at, end - at);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r->headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      at = end + 2;
    }
    size_t length = std::stoul(r->headers["content-length"]);
    r->body = data.substr(head_end + 4);
    while (r->body.size() < length) {
      pollfd p{conn, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return false;
      ssize_t n = recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return false;
      r->body.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  std::vector<int> statuses_;
  bool hang_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> held_;  // the serving thread's only
  std::mutex mu_;
  std::vector<Received> received_;  // guarded by mu_
};

}  // namespace lastgood::testutil
