#include "cli/client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace lastgood::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

Result<nlohmann::json> ApiClient::Get(const std::string& target) { return Call("GET", target, ""); }

Result<nlohmann::json> ApiClient::Post(const std::string& target, const nlohmann::json& body) {
  return Call("POST", target, body.dump());
}

Result<nlohmann::json> ApiClient::Call(const std::string& method, const std::string& target,
                                       const std::string& body) {
  asio::io_context io;
  local::socket socket(io);
  beast::error_code ec;
  socket.connect(local::endpoint(socket_path_), ec);
  if (ec) {
    return Error::Unavailable("cannot reach the controller at " + socket_path_ + ": " +
                              ec.message() + "; start it with `lastgood serve` (same --home)");
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "lastgood");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req, ec);
  if (ec) return Error::Unavailable("sending to the controller failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 << 20);
  http::read(socket, buffer, parser, ec);
  if (ec) return Error::Unavailable("the controller did not answer: " + ec.message());
  auto& res = parser.get();
  auto j = nlohmann::json::parse(res.body(), nullptr, false);
  if (j.is_discarded()) return Error::Internal("the controller sent a response that is not JSON");
  if (res.result_int() >= 400) {
    const auto& e = j.contains("error") ? j["error"] : nlohmann::json::object();
    Error err;
    err.code = ErrorCodeFromName(e.value("code", "internal"));
    err.message = e.value("message", "the controller answered " + std::to_string(res.result_int()));
    err.field = e.value("field", "");
    err.line = e.value("line", 0);
    return err;
  }
  return j;
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
