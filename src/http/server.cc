#include "http/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "http/server_impl.h"

namespace lastgood::http {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using tcp = asio::ip::tcp;

namespace {

// How often a listener at its limit says so in the log, at most.
constexpr int64_t kFullLogIntervalMillis = 10'000;

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A best-effort 503 to a connection refused for a limit (never blocks), then closes it.
void Refuse(int fd, bool plain_http, const std::string& why) {
  if (plain_http) {
    std::string body = R"({"error":{"code":"unavailable","message":")" + why + R"("}})";
    std::string text =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)!::send(fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  ::close(fd);
}

Peer UnixPeer(int fd) {
  Peer p{"unix", "unix", false, 0, 0, 0};
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred) {
    p.credentials = true;
    p.uid = cred.uid;
    p.gid = cred.gid;
    p.pid = cred.pid;
  }
  return p;
}

}  // namespace

void Log(const std::string& line) { std::fprintf(stderr, "lastgood serve: %s\n", line.c_str()); }

Answer CallHandler(const Listener& l, const Peer& peer, Request& request) {
  const char* what = "unknown exception";
  try {
    return l.handler(peer, request);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  std::string path(request.target().substr(0, request.target().find('?')));
  if (path.size() > 256) path.resize(256);
  Log(l.limits.name + ": answering " + std::string(request.method_string()) + " " + path +
      " from " + peer.address + " threw (" + what + "); answered 500");
  Response res{boost::beast::http::status::internal_server_error, request.version()};
  res.set(boost::beast::http::field::content_type, "application/json");
  res.body() =
      R"({"error":{"code":"internal","message":"the server failed to answer this request; it logged why and goes on"}})";
  return res;
}

std::string Describe(const tcp::endpoint& e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

Result<tcp::endpoint> ParseEndpoint(const std::string& text, const std::string& flag) {
  auto bad = [&](const std::string& why) {
    return Error::InvalidInput(
        "--" + flag + " " + text + ": " + why + " (expected HOST:PORT, e.g. 127.0.0.1:7443)", flag);
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("no host or port");
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
    return bad("the port is not a number");
  int number = std::stoi(port);
  if (number > 65535) return bad("the port is above 65535");
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return bad("'" + host + "' is not an IP address");
  return tcp::endpoint(address, static_cast<unsigned short>(number));
}

Server::Server() : impl_(std::make_unique<Impl>()) {}

Server::~Server() { Stop(); }

Status Server::ListenUnix(const std::string& path, Limits limits, Handler handler,
                          BodyTaker taker) {
  std::error_code fec;
  std::filesystem::remove(path, fec);
  boost::system::error_code ec;
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
  auto l = std::make_unique<Listener>();
  l->limits = std::move(limits);
  l->handler = std::move(handler);
  l->taker = std::move(taker);
  l->unix_acceptor = std::move(acc);
  l->path = path;
  impl_->listeners.push_back(std::move(l));
  return Status::Ok();
}

Result<std::string> Server::ListenTcp(const tcp::endpoint& endpoint, Limits limits, Handler handler,
                                      std::optional<asio::ssl::context> tls, BodyTaker taker) {
  boost::system::error_code ec;
  auto acc = std::make_unique<tcp::acceptor>(impl_->io);
  acc->open(endpoint.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(endpoint, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::Unavailable("cannot listen on " + Describe(endpoint) + ": " + ec.message());
  std::string bound = Describe(acc->local_endpoint(ec));
  auto l = std::make_unique<Listener>();
  l->limits = std::move(limits);
  l->handler = std::move(handler);
  l->taker = std::move(taker);
  l->tcp_acceptor = std::move(acc);
  l->tls = std::move(tls);
  impl_->listeners.push_back(std::move(l));
  return bound;
}

void Server::Start() {
  for (auto& l : impl_->listeners) {
    Listener* raw = l.get();
    l->thread = std::thread([impl = impl_.get(), raw] {
      if (raw->unix_acceptor) {
        impl->AcceptUnix(*raw);
      } else {
        impl->AcceptTcp(*raw);
      }
    });
  }
}

void Server::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  boost::system::error_code ec;
  // Wake the blocking accepts: shutdown on a listening fd makes accept return.
  for (auto& l : impl_->listeners) {
    if (l->unix_acceptor) {
      ::shutdown(l->unix_acceptor->native_handle(), SHUT_RDWR);
      l->unix_acceptor->close(ec);
    }
    if (l->tcp_acceptor) {
      ::shutdown(l->tcp_acceptor->native_handle(), SHUT_RDWR);
      l->tcp_acceptor->close(ec);
    }
  }
  for (auto& l : impl_->listeners) {
    if (l->thread.joinable()) l->thread.join();
  }
  {
    std::unique_lock lock(impl_->mu);
    for (asio::io_context* session : impl_->sessions) session->stop();
    impl_->idle.wait_for(lock, kStopWait, [&] { return impl_->connections == 0; });
  }
  for (auto& l : impl_->listeners) {
    std::error_code fec;
    if (!l->path.empty()) std::filesystem::remove(l->path, fec);
  }
}

bool Server::Impl::Admit(Listener& l, const std::string& host, std::string* why) {
  std::lock_guard lock(mu);
  if (l.connections >= l.limits.maxConnections) {
    *why = l.limits.name + " serves " + std::to_string(l.limits.maxConnections) +
           " connections already";
  } else if (l.limits.maxPerAddress > 0 && l.per_address[host] >= l.limits.maxPerAddress) {
    *why = l.limits.name + " serves " + std::to_string(l.limits.maxPerAddress) +
           " connections from " + host + " already";
  } else {
    ++l.connections;
    ++l.per_address[host];
    ++connections;
    return true;
  }
  if (l.per_address[host] == 0) l.per_address.erase(host);
  int64_t now = SteadyMillis();
  if (now - l.last_full_log >= kFullLogIntervalMillis) {
    l.last_full_log = now;
    Log(*why + "; refusing more for now (503)");
  }
  return false;
}

void Server::Impl::Release(Listener& l, const std::string& host) {
  std::lock_guard lock(mu);
  --l.connections;
  if (--l.per_address[host] <= 0) l.per_address.erase(host);
  --connections;
  idle.notify_all();
}

bool Server::Impl::Register(asio::io_context* session) {
  std::lock_guard lock(mu);
  if (stopping) return false;
  sessions.insert(session);
  return true;
}

void Server::Impl::Unregister(asio::io_context* session) {
  std::lock_guard lock(mu);
  sessions.erase(session);
}

void Server::Impl::AcceptUnix(Listener& l) {
  while (!stopping) {
    local::socket socket(io);
    boost::system::error_code ec;
    l.unix_acceptor->accept(socket, ec);
    if (stopping) break;
    if (ec) continue;
    int fd = socket.release(ec);
    if (ec) continue;
    Peer peer = UnixPeer(fd);
    std::string why;
    if (!Admit(l, peer.host, &why)) {
      Refuse(fd, true, why);
      continue;
    }
    std::thread([this, &l, fd, peer] {
      try {
        ServeUnix(l, fd, peer);
      } catch (const std::exception& e) {
        Log(l.limits.name + ": a connection ended by an exception (" + e.what() + ")");
      }
      Release(l, peer.host);
    }).detach();
  }
}

void Server::Impl::AcceptTcp(Listener& l) {
  while (!stopping) {
    tcp::socket socket(io);
    boost::system::error_code ec;
    l.tcp_acceptor->accept(socket, ec);
    if (stopping) break;
    if (ec) continue;
    auto remote = socket.remote_endpoint(ec);
    auto local_end = socket.local_endpoint(ec);
    Peer peer;
    peer.address = ec ? "tcp:unknown" : Describe(remote);
    peer.host = ec ? "tcp:unknown" : remote.address().to_string();
    int fd = socket.release(ec);
    if (ec) continue;
    std::string why;
    if (!Admit(l, peer.host, &why)) {
      Refuse(fd, !l.tls, why);
      continue;
    }
    std::thread([this, &l, fd, local_end, peer] {
      try {
        ServeTcp(l, fd, local_end, peer);
      } catch (const std::exception& e) {
        Log(l.limits.name + ": a connection ended by an exception (" + e.what() + ")");
      }
      Release(l, peer.host);
    }).detach();
  }
}

}  // namespace lastgood::http
