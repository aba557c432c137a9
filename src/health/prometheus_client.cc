// QueryPrometheus over Beast: one connection per query (an analysis asks every few seconds;
// a kept-alive connection would only add failure modes), every step under one deadline.
#include "health/prometheus_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/percent_encode.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// What of a refusal's text goes into the step's detail.
constexpr size_t kMaxErrorText = 300;

// A failed step in words; a deadline's expiry is named as such.
std::string Why(const beast::error_code& ec) {
  return ec == beast::error::timeout ? std::string("no answer in time") : ec.message();
}

// An answer, or why none came (every such failure is Unavailable).
struct Reply {
  int status = 0;
  std::string body;
  std::string failure;
};

Reply Failure(std::string why) { return Reply{0, "", std::move(why)}; }

std::string Clip(std::string s) {
  if (s.size() > kMaxErrorText) s = s.substr(0, kMaxErrorText) + "…";
  return s;
}

http::request<http::empty_body> BuildRequest(const PrometheusServer& s, const std::string& query) {
  http::request<http::empty_body> req{http::verb::get,
                                      s.prefix + "/api/v1/query?query=" + PercentEncode(query), 11};
  req.set(http::field::host, s.host_header);
  req.set(http::field::user_agent, "lastgood");
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  return req;
}

template <typename Stream>
asio::awaitable<Reply> Exchange(Stream& stream, const PrometheusServer& s,
                                const std::string& query) {
  auto req = BuildRequest(s, query);
  auto [write_ec, written] = co_await http::async_write(stream, req, kNoThrow);
  (void)written;
  if (write_ec) co_return Failure("sending the query: " + Why(write_ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxPrometheusAnswer);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  (void)read;
  if (read_ec == http::error::body_limit) {
    co_return Failure("its answer is larger than " + std::to_string(kMaxPrometheusAnswer / 1024) +
                      " KiB");
  }
  if (read_ec) co_return Failure("reading its answer: " + Why(read_ec));
  co_return Reply{static_cast<int>(parser.get().result_int()), std::move(parser.get().body()), ""};
}

asio::awaitable<Reply> Ask(const PrometheusServer& s, const std::string& query, Millis timeout,
                           asio::ssl::context& tls) {
  auto executor = co_await asio::this_coro::executor;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  tcp::resolver resolver(executor);
  // Names are resolved by the system resolver, whose own timeouts bound this step.
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(s.host, s.port, kNoThrow);
  if (resolve_ec) co_return Failure("resolving " + s.host + ": " + resolve_ec.message());
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_at(deadline);
  auto [connect_ec, connected] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
  (void)connected;
  if (connect_ec) co_return Failure("connecting: " + Why(connect_ec));
  if (!s.tls) co_return co_await Exchange(tcp_stream, s, query);

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), s.host.c_str()))
    co_return Failure("TLS: cannot set the server name");
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback(asio::ssl::host_name_verification(s.host));
  auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (handshake_ec) co_return Failure("TLS handshake: " + Why(handshake_ec));
  co_return co_await Exchange(stream, s, query);
}

// "0.5", "NaN", "+Inf", "-Inf": how the API writes a sample's value.
std::optional<double> ParseValue(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// {app="web",version="3"}; "" for no labels.
std::string LabelsText(const json& metric) {
  if (!metric.is_object() || metric.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : metric.items()) {
    if (out.size() > 1) out += ',';
    out += name + "=" + json(value.is_string() ? value.get<std::string>() : value.dump()).dump();
  }
  return out + "}";
}

// A [time, "value"] pair.
Result<double> SampleValue(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string())
    return Error::Unavailable("its answer has a malformed sample");
  auto v = ParseValue(pair[1].get<std::string>());
  if (!v) return Error::Unavailable("its answer has a malformed value: " + pair[1].dump());
  return *v;
}

}  // namespace

Result<PrometheusServer> ParsePrometheusAddress(const std::string& address) {
  PrometheusServer s;
  size_t rest;
  if (address.rfind("http://", 0) == 0) {
    rest = 7;
  } else if (address.rfind("https://", 0) == 0) {
    s.tls = true;
    rest = 8;
  } else {
    return Error::InvalidInput("expected http://HOST:PORT or https://HOST:PORT, got '" + address +
                               "'");
  }
  if (address.find_first_of("?#") != std::string::npos)
    return Error::InvalidInput("the address takes no query or fragment: '" + address + "'");
  size_t end = std::min(address.find('/', rest), address.size());
  s.host_header = address.substr(rest, end - rest);
  if (s.host_header.find('@') != std::string::npos) {
    return Error::InvalidInput(
        "the address takes no user or password (a manifest is no place for credentials): '" +
        address + "'");
  }
  s.prefix = address.substr(end);
  while (!s.prefix.empty() && s.prefix.back() == '/') s.prefix.pop_back();
  std::string host = s.host_header;
  s.port = s.tls ? "443" : "80";
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    s.port = host.substr(colon + 1);
    host = host.substr(0, colon);
    int port = 0;
    auto [ptr, ec] = std::from_chars(s.port.data(), s.port.data() + s.port.size(), port);
    if (s.port.empty() || ec != std::errc() || ptr != s.port.data() + s.port.size() || port < 1 ||
        port > 65535) {
      return Error::InvalidInput("the address has a bad port: '" + address + "'");
    }
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return Error::InvalidInput("the address has no host: '" + address + "'");
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '_') {
      return Error::InvalidInput("the address has a bad host: '" + address + "'");
    }
  }
  s.host = host;
  return s;
}

Result<PrometheusAnswer> ParsePrometheusAnswer(int status, const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  const bool api_json = doc.is_object() && doc.contains("status") && doc["status"].is_string();
  if (!api_json || doc["status"] != "success") {
    std::string why = api_json && doc.contains("error") && doc["error"].is_string()
                          ? doc["error"].get<std::string>()
                          : "";
    // 400: bad parameters (a PromQL parse error); 422: the query could not be executed.
    if (status == 400 || status == 422) {
      return Error::InvalidInput("Prometheus refused the query (HTTP " + std::to_string(status) +
                                 "): " + Clip(why.empty() ? body : why));
    }
    return Error::Unavailable("Prometheus answered HTTP " + std::to_string(status) +
                              (why.empty() ? " without the query API's JSON" : ": " + Clip(why)));
  }
  const json& data = doc.value("data", json::object());
  const std::string type = data.value("resultType", "");
  const json& result = data.contains("result") ? data["result"] : json();
  PrometheusAnswer answer;
  if (type == "scalar") {
    auto v = SampleValue(result);
    if (!v.ok()) return v.error();
    answer.samples.push_back({"", *v});
    return answer;
  }
  if (type != "vector") {
    return Error::InvalidInput("the query gives a " + (type.empty() ? "result" : type) +
                               "; it must give an instant vector or a scalar (a range vector "
                               "[5m] belongs inside a function such as rate())");
  }
  if (!result.is_array()) return Error::Unavailable("its answer has no result list");
  for (const auto& item : result) {
    if (!item.is_object()) return Error::Unavailable("its answer has a malformed series");
    auto v = SampleValue(item.value("value", json()));
    if (!v.ok()) return v.error();
    answer.samples.push_back({LabelsText(item.value("metric", json::object())), *v});
  }
  return answer;
}

Result<PrometheusAnswer> QueryPrometheus(const PrometheusServer& server, const std::string& query,
                                         Millis timeout) {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  tls.set_default_verify_paths(ec);  // the system's CAs; without them no https peer verifies
  std::optional<Reply> reply;
  asio::co_spawn(io, Ask(server, query, timeout, tls), [&](std::exception_ptr e, Reply r) {
    reply = e ? Failure("the query failed unexpectedly") : std::move(r);
  });
  // The deadline covers everything but resolving; this bounds that too.
  io.run_for(timeout + Millis(1000));
  if (!reply) return Error::Unavailable("no answer within " + FormatDuration(timeout));
  if (!reply->failure.empty()) return Error::Unavailable(reply->failure);
  return ParsePrometheusAnswer(reply->status, reply->body);
}

}  // namespace lastgood
