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

// Writes `req`'s head and then the file's bytes as its body, a piece at a time.
// `*unread` is set when the file itself failed (then the controller waits for the rest).
template <typename Stream>
beast::error_code WriteFileBody(Stream& stream, const http::request<http::string_body>& req,
                                const FileBody& file, bool* unread) {
  http::request<http::empty_body> head{req.method(), req.target(), 11};
  for (const auto& field : req.base()) head.set(field.name_string(), field.value());
  head.content_length(file.size);
  head.keep_alive(false);
  beast::error_code ec;
  http::request_serializer<http::empty_body> sr(head);
  http::write_header(stream, sr, ec);
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
    asio::write(stream, asio::buffer(piece.data(), static_cast<size_t>(n)), ec);
    sent += static_cast<uint64_t>(n);
    if (!ec && file.progress) file.progress(sent);
  }
  return ec;
}

// Sends `req` (its body, or `file`'s bytes) and reads the response over any connected stream.
template <typename Stream>
Result<http::response<http::string_body>> Send(Stream& stream,
                                               http::request<http::string_body>& req,
                                               const std::string& where,
                                               const FileBody* file = nullptr) {
  beast::error_code ec;
  if (file != nullptr) {
    bool unread = false;
    ec = WriteFileBody(stream, req, *file, &unread);
    if (unread) return Error::Unavailable("reading the file to send failed: " + ec.message());
  } else {
    http::write(stream, req, ec);
  }
  // A controller that refuses a body stops reading it and answers: read that answer, which
  // says why, before reporting a failed write.
  beast::error_code write_ec = ec;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  http::read(stream, buffer, parser, ec);
  if (ec && write_ec)
    return Error::Unavailable("sending to the controller at " + where +
                              " failed: " + write_ec.message());
  if (ec)
    return Error::Unavailable("the controller at " + where + " did not answer: " + ec.message());
  return parser.release();
}

}  // namespace

Result<nlohmann::json> ApiClient::Get(const std::string& target) { return Call("GET", target, ""); }

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
                                       const FileBody* file) {
  auto text = Exchange(method, target, body, content_type, file);
  if (!text.ok()) return text.error();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Error::Internal("the controller sent a response that is not JSON");
  return j;
}

Result<std::string> ApiClient::Exchange(const std::string& method, const std::string& target,
                                        const std::string& body, const char* content_type,
                                        const FileBody* file) {
  const Connection& c = connection_;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "lastgood");
  req.set(http::field::content_type, content_type);
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();

  asio::io_context io;
  beast::error_code ec;
  Result<http::response<http::string_body>> res = Error::Internal("no response");
  std::string where = c.server.empty() ? c.socketPath : c.server;
  if (c.server.empty()) {
    local::socket socket(io);
    socket.connect(local::endpoint(c.socketPath), ec);
    if (ec) {
      return Error::Unavailable("cannot reach the controller at " + c.socketPath + ": " +
                                ec.message() + "; start it with `lastgood serve` (same --home)");
    }
    res = Send(socket, req, where, file);
  } else {
    auto url = ParseServerUrl(c.server);
    if (!url.ok()) return url.error();
    if (!c.problem.empty()) return Error::Unavailable(c.problem);
    if (c.token.empty()) {
      return Error::Unavailable("no token for " + c.server +
                                ": set LASTGOOD_TOKEN or --token-file (docs/security.md)");
    }
    req.set(http::field::authorization, "Bearer " + c.token);
    req.set(http::field::host, url->host);
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(url->host, url->port, ec);
    auto unreachable = [&](const std::string& what) {
      return Error::Unavailable("cannot reach the controller at " + c.server + ": " + what);
    };
    if (ec) return unreachable(ec.message());
    if (!url->tls) {
      tcp::socket socket(io);
      asio::connect(socket, endpoints, ec);
      if (ec) return unreachable(ec.message());
      res = Send(socket, req, where, file);
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
      beast::ssl_stream<tcp::socket> stream(io, ctx);
      asio::ip::make_address(url->host, ec);
      if (ec) SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
      ec.clear();
      asio::connect(stream.next_layer(), endpoints, ec);
      if (ec) return unreachable(ec.message());
      stream.handshake(ssl::stream_base::client, ec);
      if (ec) {
        return unreachable("TLS handshake failed (" + ec.message() +
                           "); is the certificate trusted (--cacert) and for this host name?");
      }
      res = Send(stream, req, where, file);
      stream.shutdown(ec);
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

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace lastgood::cli
