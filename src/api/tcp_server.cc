// ApiServer's TCP half: `serve --listen ADDR`, with TLS when given a certificate and key.
// Each connection runs its own io_context in its own thread (like the unix half), with
// Beast's stream deadlines so a peer that stops talking is dropped.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>

#include "api/json.h"
#include "api/server_impl.h"

namespace lastgood {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// "host:port" or "[v6]:port" → endpoint.
Result<tcp::endpoint> ParseListenAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Error::InvalidInput(
        "--listen " + text + ": " + why + " (expected HOST:PORT, e.g. 127.0.0.1:7443)", "listen");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("no host or port");
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit))
    return bad("the port is not a number");
  int number = std::stoi(port);
  if (number > 65535) return bad("the port is above 65535");
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return bad("'" + host + "' is not an IP address");
  return tcp::endpoint(address, static_cast<unsigned short>(number));
}

std::string Describe(const tcp::endpoint& e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

// The token of "Bearer <token>" (scheme case-insensitive), or "".
std::string BearerToken(beast::string_view header) {
  std::string value(header);
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return "";
  }
  std::string token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  return token;
}

template <typename Stream>
asio::awaitable<void> ServeRequests(ApiServer::Impl* impl, Stream& stream, std::string from) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(kMaxRequestBody);
    lowest.expires_after(std::chrono::seconds(kTcpIdleTimeoutSeconds));
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    lowest.expires_never();
    auto& req = parser.get();
    ApiRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.body = req.body();
    in.principal.from = from;
    in.needsToken = true;
    in.bearer = BearerToken(req[http::field::authorization]);
    ApiResponse out = impl->Answer(in);
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::content_type, out.contentType);
    if (out.status == 401) res.set(http::field::www_authenticate, "Bearer");
    res.body() = std::move(out.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    lowest.expires_after(std::chrono::seconds(kTcpIdleTimeoutSeconds));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive() || impl->stopping) break;
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    http::response<http::string_body> res{http::status::payload_too_large, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = DumpJson(ErrorJson(Error::InvalidInput("request too large")));
    res.keep_alive(false);
    res.prepare_payload();
    lowest.expires_after(std::chrono::seconds(kTcpIdleTimeoutSeconds));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> PlainSession(ApiServer::Impl* impl, beast::tcp_stream stream,
                                   std::string from) {
  co_await ServeRequests(impl, stream, from);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

asio::awaitable<void> TlsSession(ApiServer::Impl* impl, beast::ssl_stream<beast::tcp_stream> stream,
                                 std::string from) {
  beast::error_code ec;
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(std::chrono::seconds(kTcpHandshakeTimeoutSeconds));
  co_await stream.async_handshake(ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  co_await ServeRequests(impl, stream, from);
  lowest.expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

Status ApiServer::ListenTcp(const TcpListenOptions& options) {
  auto endpoint = ParseListenAddress(options.address);
  if (!endpoint.ok()) return endpoint.error();
  if (options.tlsCert.empty() != options.tlsKey.empty()) {
    return Error::InvalidInput(
        "TLS needs both --tls-cert and --tls-key (only " +
            std::string(options.tlsCert.empty() ? "--tls-key" : "--tls-cert") + " was given)",
        options.tlsCert.empty() ? "tls-cert" : "tls-key");
  }
  if (!options.tlsCert.empty()) {
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    beast::error_code ec;
    ctx.use_certificate_chain_file(options.tlsCert, ec);
    if (ec) {
      return Error::InvalidInput("--tls-cert " + options.tlsCert +
                                     ": cannot load a PEM certificate (" + ec.message() + ")",
                                 "tls-cert");
    }
    ctx.use_private_key_file(options.tlsKey, ssl::context::pem, ec);
    if (ec) {
      return Error::InvalidInput(
          "--tls-key " + options.tlsKey + ": cannot load a PEM private key (" + ec.message() + ")",
          "tls-key");
    }
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      return Error::InvalidInput("--tls-key " + options.tlsKey +
                                     " does not belong to the certificate in " + options.tlsCert,
                                 "tls-key");
    }
    impl_->tls.emplace(std::move(ctx));
  }
  beast::error_code ec;
  auto acc = std::make_unique<tcp::acceptor>(impl_->io);
  acc->open(endpoint->protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(*endpoint, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::Unavailable("cannot listen on " + options.address + ": " + ec.message());
  impl_->tcp_address = Describe(acc->local_endpoint(ec));
  impl_->tcp_acceptor = std::move(acc);
  return Status::Ok();
}

std::string ApiServer::TcpAddress() const { return impl_->tcp_address; }

void ApiServer::Impl::RunTcp() {
  while (!stopping) {
    tcp::socket socket(io);
    beast::error_code ec;
    tcp_acceptor->accept(socket, ec);
    if (stopping) break;
    if (ec) continue;
    if (!Enter()) continue;  // closes the socket
    std::thread([this, s = std::move(socket)]() mutable {
      try {
        ServeTcp(std::move(s));
      } catch (const std::exception& e) {
        LogConnectionCrash("--listen", e.what());
      }
      Leave();
    }).detach();
  }
}

void ApiServer::Impl::ServeTcp(tcp::socket socket) {
  beast::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  std::string from = ec ? "tcp:unknown" : Describe(peer);
  asio::io_context session;
  {
    std::lock_guard lock(mu);
    if (stopping) return;
    tcp_sessions.insert(&session);
  }
  // The accepted socket belongs to the acceptor's context; move its descriptor into the
  // session's own context so that this thread alone runs it.
  auto protocol = peer.protocol();
  int fd = socket.release(ec);
  if (!ec) {
    beast::tcp_stream stream(session);
    stream.socket().assign(protocol, fd, ec);
    if (!ec) {
      if (tls) {
        asio::co_spawn(
            session,
            TlsSession(this, beast::ssl_stream<beast::tcp_stream>(std::move(stream), *tls), from),
            asio::detached);
      } else {
        asio::co_spawn(session, PlainSession(this, std::move(stream), from), asio::detached);
      }
      try {
        session.run();
      } catch (const std::exception& e) {
        // The session (and its registration below) must end normally even then.
        LogConnectionCrash("--listen", e.what());
      }
    } else {
      ::close(fd);
    }
  }
  std::lock_guard lock(mu);
  tcp_sessions.erase(&session);
}

}  // namespace lastgood
