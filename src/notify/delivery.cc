// PostOnce over Beast: one connection per attempt (webhooks are rare; keeping connections
// alive would only add failure modes), every step under one tcp_stream deadline.
#include "notify/delivery.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

namespace lastgood::notify_internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// A receiver's answer matters only for its status; its body is read no further than this.
constexpr uint64_t kMaxResponseBody = 64 * 1024;

http::request<http::string_body> BuildRequest(const WebhookTarget& t, const PostRequest& r) {
  http::request<http::string_body> req{http::verb::post, t.target, 11};
  req.set(http::field::host, t.host_header);
  req.set(http::field::user_agent, "lastgood");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.set("X-Lastgood-Event", r.event);
  req.set("X-Lastgood-Delivery", r.delivery_id);
  if (!r.signature.empty()) req.set("X-Lastgood-Signature", r.signature);
  req.body() = r.body;
  req.prepare_payload();
  return req;
}

// Sends the request on a connected stream and reads the status of the answer.
template <typename Stream>
asio::awaitable<PostResult> Exchange(Stream& stream, const WebhookTarget& t, const PostRequest& r) {
  auto req = BuildRequest(t, r);
  auto [write_ec, written] = co_await http::async_write(stream, req, kNoThrow);
  (void)written;
  if (write_ec) co_return PostResult{0, "sending: " + write_ec.message()};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  (void)read;
  // A status that arrived counts even when its body was cut off or too long.
  if (read_ec && !parser.is_header_done()) {
    co_return PostResult{0, "reading the response: " + read_ec.message()};
  }
  co_return PostResult{static_cast<int>(parser.get().result_int()), ""};
}

}  // namespace

Result<WebhookTarget> ParseWebhookUrl(const std::string& url) {
  WebhookTarget t;
  size_t rest;
  if (url.rfind("http://", 0) == 0) {
    rest = 7;
  } else if (url.rfind("https://", 0) == 0) {
    t.tls = true;
    rest = 8;
  } else {
    return Error::InvalidInput("webhook url must start with http:// or https://");
  }
  size_t end = std::min(url.find_first_of("/?", rest), url.size());
  t.host_header = url.substr(rest, end - rest);
  t.target = end < url.size() ? url.substr(end) : "/";
  if (t.target[0] == '?') t.target = "/" + t.target;
  std::string host = t.host_header;
  t.port = t.tls ? "443" : "80";
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    t.port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || t.port.empty()) return Error::InvalidInput("webhook url has no host");
  t.host = host;
  t.label = url.substr(0, rest) + t.host_header;
  if (colon == std::string::npos || t.host_header.back() == ']') t.label += ":" + t.port;
  return t;
}

asio::awaitable<PostResult> PostOnce(const WebhookTarget& t, const PostRequest& r, Millis timeout,
                                     asio::ssl::context& tls) {
  auto executor = co_await asio::this_coro::executor;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  tcp::resolver resolver(executor);
  // Names are resolved by the system resolver, whose own timeouts bound this step.
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(t.host, t.port, kNoThrow);
  if (resolve_ec) co_return PostResult{0, "resolving " + t.host + ": " + resolve_ec.message()};

  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_at(deadline);
  auto [connect_ec, connected] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
  (void)connected;
  if (connect_ec) co_return PostResult{0, "connecting: " + connect_ec.message()};
  if (!t.tls) {
    PostResult result = co_await Exchange(tcp_stream, t, r);
    beast::error_code ignored;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return result;
  }

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
    co_return PostResult{0, "TLS: cannot set the server name"};
  }
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback(asio::ssl::host_name_verification(t.host));
  auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (handshake_ec) co_return PostResult{0, "TLS handshake: " + handshake_ec.message()};
  PostResult result = co_await Exchange(stream, t, r);
  beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(200));
  co_await stream.async_shutdown(kNoThrow);  // best effort; the status is what counts
  co_return result;
}

}  // namespace lastgood::notify_internal
