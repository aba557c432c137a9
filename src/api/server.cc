#include "api/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <filesystem>

#include "api/json.h"
#include "api/server_impl.h"

namespace lastgood {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

namespace {

// The unix socket's peer is the local admin, named after its uid (SO_PEERCRED).
auth::Principal PeerPrincipal(local::socket& socket) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return {"local:unknown", auth::Role::kAdmin, "unix"};
  return auth::LocalAdmin(cred.uid);
}

}  // namespace

void LogCrash(const ApiRequest& request, const char* what) {
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path.size() > 256) path.resize(256);
  std::fprintf(stderr, "lastgood serve: answering %s %s from %s threw (%s); answered 500\n",
               request.method.c_str(), path.c_str(), request.principal.from.c_str(), what);
}

void LogConnectionCrash(const char* where, const char* what) {
  std::fprintf(stderr, "lastgood serve: a connection on %s ended by an exception (%s)\n", where,
               what);
}

ApiResponse ApiServer::Impl::Answer(const ApiRequest& request) {
  try {
    return handle(request);
  } catch (const std::exception& e) {
    LogCrash(request, e.what());
    return CrashResponse(request, e.what());
  } catch (...) {
    LogCrash(request, "unknown exception");
    return CrashResponse(request, "unknown exception");
  }
}

bool ApiServer::Impl::Enter() {
  std::lock_guard lock(mu);
  if (connections >= kMaxApiConnections) return false;
  ++connections;
  return true;
}

void ApiServer::Impl::Leave() {
  std::lock_guard lock(mu);
  --connections;
  idle.notify_all();
}

void ApiServer::Impl::Serve(local::socket socket) {
  const auth::Principal peer = PeerPrincipal(socket);
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
    ApiRequest in{std::string(req.method_string()),
                  std::string(req.target()),
                  req.body(),
                  peer.name,
                  peer,
                  false,
                  ""};
    ApiResponse out = Answer(in);
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::content_type, out.contentType);
    res.body() = std::move(out.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !res.keep_alive() || stopping) break;
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    http::response<http::string_body> res{http::status::payload_too_large, 11};
    res.body() = DumpJson(ErrorJson(Error::InvalidInput("request too large")));
    res.prepare_payload();
    http::write(socket, res, ec);
  }
  socket.shutdown(local::socket::shutdown_both, ec);
}

ApiServer::ApiServer(Api* api) : impl_(std::make_unique<Impl>()) {
  impl_->handle = [api](const ApiRequest& r) { return api->Handle(r); };
}

ApiServer::ApiServer(ApiHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->handle = std::move(handler);
}

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
  std::thread tcp;
  if (impl_->tcp_acceptor) tcp = std::thread([impl = impl_.get()] { impl->RunTcp(); });
  while (!impl_->stopping) {
    local::socket socket(impl_->io);
    beast::error_code ec;
    impl_->acceptor->accept(socket, ec);
    if (impl_->stopping) break;
    if (ec) continue;
    if (!impl_->Enter()) continue;  // closes the socket
    std::thread([impl = impl_.get(), s = std::move(socket)]() mutable {
      try {
        impl->Serve(std::move(s));
      } catch (const std::exception& e) {
        LogConnectionCrash("the unix socket", e.what());
      }
      impl->Leave();
    }).detach();
  }
  if (tcp.joinable()) tcp.join();
}

void ApiServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  beast::error_code ec;
  // Wake the blocking accepts: shutdown on a listening fd makes accept return.
  if (impl_->acceptor) {
    ::shutdown(impl_->acceptor->native_handle(), SHUT_RDWR);
    impl_->acceptor->close(ec);
  }
  if (impl_->tcp_acceptor) {
    ::shutdown(impl_->tcp_acceptor->native_handle(), SHUT_RDWR);
    impl_->tcp_acceptor->close(ec);
  }
  std::unique_lock lock(impl_->mu);
  for (asio::io_context* session : impl_->tcp_sessions) session->stop();
  impl_->idle.wait_for(lock, std::chrono::seconds(35), [&] { return impl_->connections == 0; });
  std::error_code fec;
  if (!impl_->path.empty()) std::filesystem::remove(impl_->path, fec);
}

}  // namespace lastgood
