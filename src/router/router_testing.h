// Test helpers for the router's tests (header-only; not used by the router itself): a real
// loopback HTTP backend that records what reaches it, plain HTTP clients, a temporary home,
// and table builders. No mocks: everything speaks over 127.0.0.1 sockets.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "router/table.h"

namespace lastgood::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct SeenRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lowercase names; repeated ones joined ", "
};

// A backend on 127.0.0.1:<free port>. Answers 200 with body "<name>\n" unless `handler`
// says otherwise. Paths: /upgrade answers 101 and echoes bytes; /chunked answers with a
// chunked body of 3 pieces; /slow?ms=N waits N ms first.
class TestBackend {
 public:
  using Handler = std::function<void(const SeenRequest&, http::response<http::string_body>&)>;

  explicit TestBackend(std::string name) : name_(std::move(name)), acceptor_(io_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestBackend() { Stop(); }

  void Stop() {
    if (stopped_.exchange(true)) return;
    boost::system::error_code ec;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ec);
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& s : sockets_) {
        s->shutdown(tcp::socket::shutdown_both, ec);
      }
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }
  std::vector<SeenRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  void set_handler(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(h);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopped_) return;
      connections_++;
      std::lock_guard<std::mutex> lock(mu_);
      sockets_.push_back(socket);
      threads_.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  void Serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 30);
      boost::system::error_code ec;
      http::read(socket, buffer, parser, ec);
      if (ec) return;
      auto& req = parser.get();
      SeenRequest seen{std::string(req.method_string()), std::string(req.target()), req.body(), {}};
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(tolower(c));
        auto& v = seen.headers[name];
        v = v.empty() ? std::string(f.value()) : v + ", " + std::string(f.value());
      }
      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(seen);
        handler = handler_;
      }
      requests_++;
      std::string target = seen.target;
      if (target.rfind("/slow", 0) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(atoi(target.c_str() + 9)));
      }
      if (target == "/upgrade") {
        std::string head =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n";
        asio::write(socket, asio::buffer(head), ec);
        if (buffer.size()) asio::write(socket, buffer.data(), ec);
        char data[4096];
        for (;;) {
          size_t n = socket.read_some(asio::buffer(data), ec);
          if (ec) return;
          asio::write(socket, asio::buffer(data, n), ec);
        }
      }
      if (target == "/chunked") {
        std::string out =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
        asio::write(socket, asio::buffer(out), ec);
        continue;
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = name_ + "\n";
      if (handler) handler(seen, res);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  const std::string name_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> requests_{0}, connections_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::vector<SeenRequest> seen_;
  Handler handler_;
};

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

// One request on a new connection; status 0 if the exchange failed.
inline Reply Get(uint16_t port, const std::string& target,
                 const std::map<std::string, std::string>& headers = {},
                 http::verb method = http::verb::get, const std::string& body = "") {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {};
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == http::verb::post) req.prepare_payload();
  http::write(s, req, ec);
  if (ec) return {};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 30);
  http::read(s, buffer, parser, ec);
  if (ec) return {};
  Reply r;
  r.status = parser.get().result_int();
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(tolower(c));
    r.headers[name] = std::string(f.value());
  }
  r.body = parser.get().body();
  return r;
}

// A keep-alive client: requests one after another on one connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    boost::system::error_code ec;
    socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  }
  Reply Send(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    for (const auto& [k, v] : headers) req.set(k, v);
    boost::system::error_code ec;
    http::write(socket_, req, ec);
    if (ec) return {};
    http::response_parser<http::string_body> parser;
    http::read(socket_, buffer_, parser, ec);
    if (ec) return {};
    Reply r;
    r.status = parser.get().result_int();
    for (const auto& f : parser.get()) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(tolower(c));
      r.headers[name] = std::string(f.value());
    }
    r.body = parser.get().body();
    return r;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Sends raw bytes and reads until the peer closes or `timeout` passes.
inline std::string RawExchange(
    uint16_t port, const std::string& bytes,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return "<connect failed>";
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  asio::write(s, asio::buffer(bytes), ec);
  std::string out;
  char data[4096];
  for (;;) {
    ssize_t n = ::recv(s.native_handle(), data, sizeof(data), 0);
    if (n <= 0) break;
    out.append(data, static_cast<size_t>(n));
  }
  return out;
}

// A fresh directory under the system temp dir, removed at the end of the test.
class TempHome {
 public:
  TempHome() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lg-router-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempHome() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A table with one app "web" whose production slot has `versions` (version, weight,
// backends), listening on `listen`.
inline RoutingTable OneApp(const std::string& listen, const std::vector<RouteVersion>& production,
                           const std::vector<RouteVersion>& staging = {}, uint64_t generation = 1) {
  RoutingTable t;
  t.generation = generation;
  RouteApp app;
  app.name = "web";
  app.slots.push_back({"production", production});
  if (!staging.empty()) app.slots.push_back({"staging", staging});
  t.apps.push_back(app);
  t.listeners.push_back({listen, "", "web", "production"});
  return t;
}

inline RouteVersion Version(int number, int weight,
                            const std::vector<const TestBackend*>& backends) {
  RouteVersion v;
  v.version = number;
  v.weight = weight;
  int i = 0;
  for (const auto* b : backends)
    v.backends.push_back({"v" + std::to_string(number) + "-" + std::to_string(i++), b->address()});
  return v;
}

}  // namespace lastgood::testing
