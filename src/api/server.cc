#include "api/server.h"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <thread>

#include "api/json.h"

namespace lastgood {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

struct ApiServer::Impl {
  Api* api;
  asio::io_context io;
  std::unique_ptr<local::acceptor> acceptor;
  std::string path;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable idle;
  int connections = 0;  // GUARDED_BY(mu)

  void Serve(local::socket socket);
};

namespace {

// "local:<user>" for the peer of a unix socket, from its credentials.
std::string PeerActor(local::socket& socket) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return "local:unknown";
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (getpwuid_r(cred.uid, &pw, buf, sizeof buf, &found) == 0 && found)
    return std::string("local:") + found->pw_name;
  return "local:uid" + std::to_string(cred.uid);
}

}  // namespace

void ApiServer::Impl::Serve(local::socket socket) {
  const std::string actor = PeerActor(socket);
  // An idle keep-alive client must not hold the connection (and a shutdown) forever.
  struct timeval tv {
    5, 0
  };
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(kMaxRequestBody);
    http::read(socket, buffer, parser, ec);
    if (ec) break;
    auto& req = parser.get();
    ApiRequest in{std::string(req.method_string()), std::string(req.target()), req.body(), actor};
    ApiResponse out = api->Handle(in);
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(out.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !res.keep_alive() || stopping) break;
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    http::response<http::string_body> res{http::status::payload_too_large, 11};
    res.body() = ErrorJson(Error::InvalidInput("request too large")).dump();
    res.prepare_payload();
    http::write(socket, res, ec);
  }
  socket.shutdown(local::socket::shutdown_both, ec);
}

ApiServer::ApiServer(Api* api) : impl_(std::make_unique<Impl>()) { impl_->api = api; }

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Listen(const std::string& path) {
  std::error_code fec;
  std::filesystem::remove(path, fec);
  beast::error_code ec;
  auto acc = std::make_unique<local::acceptor>(impl_->io);
  acc->open(local(), ec);
  // The socket file is created by bind; a restrictive umask makes it 0600 from the start,
  // so there is no moment when another user could connect.
  mode_t old = ::umask(0177);
  if (!ec) acc->bind(local::endpoint(path), ec);
  ::umask(old);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::Unavailable("cannot listen on " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0600);
  impl_->acceptor = std::move(acc);
  impl_->path = path;
  return Status::Ok();
}

void ApiServer::Run() {
  while (!impl_->stopping) {
    local::socket socket(impl_->io);
    beast::error_code ec;
    impl_->acceptor->accept(socket, ec);
    if (impl_->stopping) break;
    if (ec) continue;
    std::unique_lock lock(impl_->mu);
    if (impl_->connections >= kMaxApiConnections) continue;  // closes the socket
    ++impl_->connections;
    lock.unlock();
    std::thread([impl = impl_.get(), s = std::move(socket)]() mutable {
      impl->Serve(std::move(s));
      std::lock_guard guard(impl->mu);
      --impl->connections;
      impl->idle.notify_all();
    }).detach();
  }
}

void ApiServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->acceptor) {
    beast::error_code ec;
    // Wake the blocking accept: shutdown on the listening fd makes accept return.
    ::shutdown(impl_->acceptor->native_handle(), SHUT_RDWR);
    impl_->acceptor->close(ec);
  }
  std::unique_lock lock(impl_->mu);
  impl_->idle.wait_for(lock, std::chrono::seconds(35), [&] { return impl_->connections == 0; });
  std::error_code fec;
  if (!impl_->path.empty()) std::filesystem::remove(impl_->path, fec);
}

}  // namespace lastgood
