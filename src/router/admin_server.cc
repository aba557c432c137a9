#include "router/admin_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "router/address.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kAdminNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kAdminIdleTimeout{10};
constexpr uint32_t kAdminHeaderLimit = 8 * 1024;

class AdminServerImpl : public AdminServer, public std::enable_shared_from_this<AdminServerImpl> {
 public:
  AdminServerImpl(asio::io_context& io, std::function<std::string()> metrics)
      : metrics_(std::move(metrics)), acceptor_(io) {}

  Status Open(const std::string& address, int fd) {
    boost::system::error_code ec;
    if (fd >= 0) {
      tcp::endpoint bound;
      socklen_t len = static_cast<socklen_t>(bound.capacity());
      if (::getsockname(fd, bound.data(), &len) != 0) {
        return Error::Unavailable("the admin socket handed over is not a socket");
      }
      acceptor_.assign(bound.protocol(), fd, ec);
    } else {
      auto endpoint = ParseAddress(address, true, "admin");
      if (!endpoint.ok()) return endpoint.error();
      acceptor_.open(endpoint->protocol(), ec);
      if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor_.bind(*endpoint, ec);
      if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return Error::Unavailable("cannot listen on admin address " + address + ": " + ec.message());
    }
    address_ = FormatAddress(acceptor_.local_endpoint(ec));
    return Status::Ok();
  }

  void Run() { asio::co_spawn(acceptor_.get_executor(), Accept(), asio::detached); }

  std::string Address() const override { return address_; }

  void Close() override {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAdminNoThrow);
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (ec) continue;
      if (open_ >= kAdminMaxConnections) {
        boost::system::error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        continue;
      }
      ++open_;
      asio::co_spawn(acceptor_.get_executor(), Serve(std::move(socket)),
                     [self = shared_from_this()](std::exception_ptr) { --self->open_; });
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    using namespace asio::experimental::awaitable_operators;
    beast::flat_buffer buffer;
    asio::steady_timer timer(socket.get_executor());
    for (;;) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(kAdminHeaderLimit);
      timer.expires_after(kAdminIdleTimeout);
      auto result = co_await (http::async_read_header(socket, buffer, parser, kAdminNoThrow) ||
                              timer.async_wait(kAdminNoThrow));
      if (result.index() == 1) break;
      auto [ec, n] = std::get<0>(result);
      if (ec) break;
      const auto& req = parser.get();
      http::response<http::string_body> res;
      res.version(11);
      bool keep = req.keep_alive();
      if (!parser.is_done()) {
        // A body: this port takes none, and reads none.
        res.result(http::status::payload_too_large);
        res.body() = "the admin port takes no request bodies\n";
        keep = false;
      } else if (req.target() != "/metrics" || req.method() != http::verb::get) {
        res.result(http::status::not_found);
        res.body() = "not found; this port serves GET /metrics\n";
      } else {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4");
        res.body() = metrics_();
      }
      res.keep_alive(keep);
      res.prepare_payload();
      auto [write_ec, written] = co_await http::async_write(socket, res, kAdminNoThrow);
      if (write_ec || !keep) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  const std::function<std::string()> metrics_;
  tcp::acceptor acceptor_;
  std::string address_;
  int open_ = 0;  // connections being served; only the io_context's thread touches it
};

}  // namespace

Result<std::unique_ptr<AdminServer>> StartAdminServer(asio::io_context& io,
                                                      const std::string& address, int fd,
                                                      std::function<std::string()> metrics) {
  auto server = std::make_shared<AdminServerImpl>(io, std::move(metrics));
  Status s = server->Open(address, fd);
  if (!s.ok()) return s.error();
  server->Run();
  // The returned handle shares ownership with the sessions, which may outlive it briefly.
  struct Handle : AdminServer {
    std::shared_ptr<AdminServerImpl> impl;
    std::string Address() const override { return impl->Address(); }
    void Close() override { impl->Close(); }
  };
  auto handle = std::make_unique<Handle>();
  handle->impl = std::move(server);
  return std::unique_ptr<AdminServer>(std::move(handle));
}

}  // namespace lastgood
