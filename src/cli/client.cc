#include "cli/client.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <iostream>
#include <vector>

#include "base/build_id.h"
#include "base/duration.h"
#include "base/version.h"
#include "wire/json_text.h"
#include "wire/request.h"

namespace lastgood::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using local = asio::local::stream_protocol;
using tcp = asio::ip::tcp;

namespace {

// The largest answer read: a backup's snapshot (api/backup.cc sends at most 1 GiB).
constexpr size_t kMaxResponseBody = size_t{1} << 30;
// A file body is sent in pieces of this size.
constexpr size_t kFilePieceBytes = 256 << 10;

struct ServerUrl {
  bool tls = false;
  std::string host;
  std::string port;
};

Result<ServerUrl> ParseServerUrl(const std::string& url) {
  ServerUrl out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Error::InvalidInput(
        "--server " + url + ": give a URL such as https://host:7443 or http://127.0.0.1:7443",
        "server");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos)
    return Error::InvalidInput("--server " + url + ": expected scheme://host[:port]", "server");
  size_t colon = rest.rfind(':');
  bool v6 = rest.front() == '[';
  if (colon != std::string::npos && (!v6 || rest[colon - 1] == ']')) {
    out.host = rest.substr(0, colon);
    out.port = rest.substr(colon + 1);
  } else {
    out.host = rest;
    out.port = out.tls ? "443" : "80";
  }
  if (out.host.size() > 2 && out.host.front() == '[')
    out.host = out.host.substr(1, out.host.size() - 2);
  return out;
}

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using UnixStream = beast::basic_stream<local>;

// Runs what was started on `io` to its end. Deadlines are the streams' own (expires_after,
// not socket options, which Asio's blocking calls do not honour): an operation still pending
// at its deadline completes with beast::error::timeout.
void RunAll(asio::io_context& io) {
  io.run();
  io.restart();
}

// Why an exchange ended early, for people.
std::string Describe(const beast::error_code& ec, Millis limit) {
  if (ec == beast::error::timeout) return "no answer within " + FormatDuration(limit);
  return ec.message();
}

// Writes `req`'s head and then the file's bytes as its body, a piece at a time, each piece
// within `idle`. `*unread` is set when the file itself failed (then the controller waits for
// the rest).
template <typename Stream>
beast::error_code WriteFileBody(asio::io_context& io, Stream& stream, const Request& req,
                                const FileBody& file, Millis idle, bool* unread) {
  auto& lowest = beast::get_lowest_layer(stream);
  http::request<http::empty_body> head{req.method(), req.target(), 11};
  for (const auto& field : req.base()) head.set(field.name_string(), field.value());
  head.content_length(file.size);
  head.keep_alive(false);
  beast::error_code ec;
  auto done = [&ec](beast::error_code e, size_t) { ec = e; };
  http::request_serializer<http::empty_body> sr(head);
  lowest.expires_after(idle);
  http::async_write_header(stream, sr, done);
  RunAll(io);
  std::vector<char> piece(kFilePieceBytes);
  uint64_t sent = 0;
  while (!ec && sent < file.size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(piece.size(), file.size - sent));
    ssize_t n = ::read(file.fd, piece.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *unread = true;
      return beast::error_code(n < 0 ? errno : EIO, beast::system_category());
    }
    lowest.expires_after(idle);
    asio::async_write(stream, asio::buffer(piece.data(), static_cast<size_t>(n)), done);
    RunAll(io);
    sent += static_cast<uint64_t>(n);
    if (!ec && file.progress) file.progress(sent);
  }
  return ec;
}

// Sends `req` (its body, or `file`'s bytes) and reads the response over a connected stream:
// at most `idle` between two writes; the answer's first byte within `first`, then at most
// `idle` between two reads (a large backup streams for as long as it keeps coming).
template <typename Stream>
Result<Response> Send(asio::io_context& io, Stream& stream, Request& req, const std::string& where,
                      Millis first, Millis idle, const FileBody* file) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;
  auto done = [&ec](beast::error_code e, size_t) { ec = e; };
  if (file != nullptr) {
    bool unread = false;
    ec = WriteFileBody(io, stream, req, *file, idle, &unread);
    if (unread) return Error::Unavailable("reading the file to send failed: " + ec.message());
  } else {
    http::request_serializer<http::string_body> serializer{req};
    while (!ec && !serializer.is_done()) {
      lowest.expires_after(idle);
      http::async_write_some(stream, serializer, done);
      RunAll(io);
    }
  }
  // A controller that refuses a body stops reading it and answers: read that answer, which
  // says why, before reporting a failed write.
  beast::error_code write_ec = ec;
  ec.clear();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  lowest.expires_after(write_ec ? idle : first);
  http::async_read_header(stream, buffer, parser, done);
  RunAll(io);
  while (!ec && !parser.is_done()) {
    lowest.expires_after(idle);
    http::async_read_some(stream, buffer, parser, done);
    RunAll(io);
  }
  if (ec && write_ec) {
    return Error::Unavailable("sending to the controller at " + where +
                              " failed: " + Describe(write_ec, idle));
  }
  if (ec == beast::error::timeout) {
    return Error::Unavailable(
        "the controller at " + where + " accepted the connection but sent no answer within " +
        FormatDuration(parser.is_header_done() ? idle : first) +
        "; it may be overloaded or hung, and may still carry the request out (check with "
        "`lastgood history APP`); a slow operation may be given longer with --timeout");
  }
  if (ec)
    return Error::Unavailable("the controller at " + where + " did not answer: " + ec.message());
  return parser.release();
}

// Connects a stream's lowest layer to the first endpoint that answers within `limit`.
template <typename Socket, typename Endpoints>
beast::error_code Connect(asio::io_context& io, Socket& lowest, const Endpoints& endpoints,
                          Millis limit) {
  beast::error_code ec;
  lowest.expires_after(limit);
  lowest.async_connect(endpoints, [&ec](beast::error_code e, const auto&...) { ec = e; });
  RunAll(io);
  return ec;
}

// Whether every address a name resolved to is this machine's loopback: a token sent in the
// clear to one of them never crosses a network.
bool AllLoopback(const tcp::resolver::results_type& endpoints) {
  if (endpoints.empty()) return false;
  for (const auto& e : endpoints) {
    auto address = e.endpoint().address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    if (!address.is_loopback()) return false;
  }
  return true;
}

}  // namespace

Result<nlohmann::json> ApiClient::Get(const std::string& target, Millis server_wait) {
  return Call("GET", target, "", "application/json", nullptr, server_wait);
}

Result<nlohmann::json> ApiClient::Post(const std::string& target, const nlohmann::json& body) {
  return Call("POST", target, DumpJson(body));
}

Result<nlohmann::json> ApiClient::Delete(const std::string& target) {
  return Call("DELETE", target, "");
}

Result<std::string> ApiClient::PostForBytes(const std::string& target, const nlohmann::json& body) {
  return Exchange("POST", target, DumpJson(body));
}

Result<nlohmann::json> ApiClient::PutBytes(const std::string& target, const std::string& bytes) {
  return Call("PUT", target, bytes, "application/octet-stream");
}

Result<nlohmann::json> ApiClient::PutFile(const std::string& target, const FileBody& file) {
  return Call("PUT", target, "", "application/octet-stream", &file);
}

Result<nlohmann::json> ApiClient::Call(const std::string& method, const std::string& target,
                                       const std::string& body, const char* content_type,
                                       const FileBody* file, Millis server_wait) {
  auto text = Exchange(method, target, body, content_type, file, server_wait);
  if (!text.ok()) return text.error();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Error::Internal("the controller sent a response that is not JSON");
  return j;
}

Result<std::string> ApiClient::Exchange(const std::string& method, const std::string& target,
                                        const std::string& body, const char* content_type,
                                        const FileBody* file, Millis server_wait) {
  const Connection& c = connection_;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "lastgood");
  req.set(http::field::content_type, content_type);
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();

  asio::io_context io;
  beast::error_code ec;
  Result<Response> res = Error::Internal("no response");
  std::string where = c.server.empty() ? c.socketPath : c.server;
  const Millis first = c.answerTimeout + server_wait;
  if (c.server.empty()) {
    UnixStream stream(io);
    ec = Connect(io, stream, local::endpoint(c.socketPath), c.connectTimeout);
    if (ec) {
      return Error::Unavailable("cannot reach the controller at " + c.socketPath + ": " +
                                Describe(ec, c.connectTimeout) +
                                "; start it with `lastgood serve` (same --home)");
    }
    res = Send(io, stream, req, where, first, c.answerTimeout, file);
  } else {
    auto url = ParseServerUrl(c.server);
    if (!url.ok()) return url.error();
    if (!c.problem.empty()) return Error::Unavailable(c.problem);
    if (c.token.empty()) {
      return Error::Unavailable("no token for " + c.server +
                                ": set LASTGOOD_TOKEN or --token-file (docs/security.md)");
    }
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(url->host, url->port, ec);
    auto unreachable = [&](const std::string& what) {
      return Error::Unavailable("cannot reach the controller at " + c.server + ": " + what);
    };
    if (ec) return unreachable(ec.message());
    // Checked on the addresses actually to be connected to, so a name that resolves to
    // another machine is caught as well as an address typed out.
    if (!url->tls && !c.insecure && !AllLoopback(endpoints)) {
      return Error::InvalidInput(
          "--server " + c.server +
              ": refusing to send the token in clear text over http:// to an address that is "
              "not loopback (anyone on the path could read it and act with its role); use "
              "https:// (serve --tls-cert/--tls-key, docs/security.md), or pass --insecure if "
              "this network is trusted",
          "server");
    }
    req.set(http::field::authorization, "Bearer " + c.token);
    req.set(http::field::host, url->host);
    if (!url->tls) {
      beast::tcp_stream stream(io);
      ec = Connect(io, stream, endpoints, c.connectTimeout);
      if (ec) return unreachable(Describe(ec, c.connectTimeout));
      res = Send(io, stream, req, where, first, c.answerTimeout, file);
    } else {
      ssl::context ctx(ssl::context::tls_client);
      ctx.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      if (!c.cacert.empty()) {
        ctx.load_verify_file(c.cacert, ec);
        if (ec) {
          return Error::InvalidInput(
              "--cacert " + c.cacert + ": cannot load PEM certificates (" + ec.message() + ")",
              "cacert");
        }
      } else {
        ctx.set_default_verify_paths(ec);
      }
      ctx.set_verify_mode(ssl::verify_peer);
      ctx.set_verify_callback(ssl::host_name_verification(url->host));
      beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
      asio::ip::make_address(url->host, ec);
      if (ec) SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
      auto& lowest = beast::get_lowest_layer(stream);
      ec = Connect(io, lowest, endpoints, c.connectTimeout);
      if (ec) return unreachable(Describe(ec, c.connectTimeout));
      lowest.expires_after(c.connectTimeout);
      stream.async_handshake(ssl::stream_base::client, [&ec](beast::error_code e) { ec = e; });
      RunAll(io);
      if (ec) {
        return unreachable("TLS handshake failed (" + Describe(ec, c.connectTimeout) +
                           "); is the certificate trusted (--cacert) and for this host name?");
      }
      res = Send(io, stream, req, where, first, c.answerTimeout, file);
      // A courtesy close_notify; the answer is read already, so a peer that never answers
      // it costs at most a second.
      lowest.expires_after(std::chrono::seconds(1));
      stream.async_shutdown([](beast::error_code) {});
      RunAll(io);
    }
  }
  if (!res.ok()) return res.error();
  WarnOfOtherBuild(where, std::string((*res)[kBuildIdHeader]));
  int status = res->result_int();
  if (status == 401) {
    return Error::Unavailable("the controller at " + where +
                              " refused the token (401 unauthorized): it is missing, wrong or "
                              "revoked; check LASTGOOD_TOKEN or --token-file");
  }
  if (status >= 400) {
    auto j = nlohmann::json::parse(res->body(), nullptr, false);
    if (j.is_discarded()) j = nlohmann::json::object();
    const auto& e =
        j.contains("error") && j["error"].is_object() ? j["error"] : nlohmann::json::object();
    // Read defensively: a server that is not lastgood must not crash the CLI.
    auto text = [&e](const char* key, std::string otherwise) {
      return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : otherwise;
    };
    Error err;
    err.code = ErrorCodeFromName(text("code", "internal"));
    err.message = text("message", "the controller answered " + std::to_string(status));
    err.field = text("field", "");
    err.line = e.contains("line") && e["line"].is_number_integer() ? e["line"].get<int>() : 0;
    if (status == 403) {
      err.code = ErrorCode::kUnavailable;
      err.message = "forbidden (403): " + err.message + "; ask an admin for a token with that role";
    }
    return err;
  }
  return std::move(res->body());
}

void ApiClient::WarnOfOtherBuild(const std::string& where, const std::string& build_id) {
  static std::atomic<bool> warned{false};
  if (build_id.empty() || BuildId().empty() || build_id == BuildId() || warned.exchange(true))
    return;
  // Rare, so worth one more request: the controller's own words for what it is.
  BuildVersion theirs{"", build_id, ""};
  if (auto health = Get("/v1/health"); health.ok() && health->contains("version")) {
    BuildVersion said = BuildVersionFromJson((*health)["version"]);
    if (said.buildId == build_id) theirs = said;
  }
  std::string message = "the controller at " + where + " is " + DescribeBuild(theirs) +
                        ", not this " + DescribeBuild(ThisBuild()) +
                        ": restart it with this binary, or use the lastgood it runs";
  if (connection_.json) {
    std::cerr << DumpJson({{"warning", {{"code", "other_build"}, {"message", message}}}}) << "\n";
  } else {
    std::cerr << "lastgood: warning: " << message << "\n";
  }
}

}  // namespace lastgood::cli
