// RouterControl over the router's unix control socket (protocol in router/control.h).
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "router/control.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Persisting a table takes an fsync; a stats read is quick.
constexpr std::chrono::seconds kApplyTimeout{10};
constexpr std::chrono::seconds kQueryTimeout{5};
constexpr uint64_t kResponseLimit = 64 * 1024 * 1024;

struct Reply {
  int status = 0;
  std::string body;
};

class ControlClient : public RouterControl {
 public:
  explicit ControlClient(std::string path) : path_(std::move(path)) {}

  Status Apply(const RoutingTable& table) override {
    auto reply = Call(http::verb::put, "/v1/table", TableToJson(table), kApplyTimeout);
    if (!reply.ok()) return reply.error();
    return reply->status == 200 ? Status::Ok() : Status(ToError(*reply));
  }

  Result<RouterStats> Stats(Millis window) override {
    auto reply = Call(http::verb::get, "/v1/stats?window=" + std::to_string(window.count()) + "ms",
                      "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    if (reply->status != 200) return ToError(*reply);
    return StatsFromJson(reply->body);
  }

  Status Ping() override {
    auto reply = Call(http::verb::get, "/v1/health", "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    return reply->status == 200 ? Status::Ok() : Status(ToError(*reply));
  }

 private:
  static Error ToError(const Reply& reply) {
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
      const auto& e = j["error"];
      Error error{ErrorCodeFromName(e.value("code", "internal")), e.value("message", ""),
                  e.value("field", ""), 0};
      return error;
    }
    return Error::Internal("router answered " + std::to_string(reply.status));
  }

  Result<Reply> Call(http::verb method, const std::string& target, const std::string& body,
                     std::chrono::seconds timeout) {
    asio::io_context io;
    beast::basic_stream<asio::local::stream_protocol> stream(io);
    beast::flat_buffer buffer;
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "router");
    if (method == http::verb::put) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseLimit);
    boost::system::error_code failure;
    const char* step = "connect to";
    stream.expires_after(timeout);
    stream.async_connect(asio::local::stream_protocol::endpoint(path_), [&](auto ec) {
      if (ec) {
        failure = ec;
        return;
      }
      step = "send to";
      http::async_write(stream, req, [&](auto ec2, size_t) {
        if (ec2) {
          failure = ec2;
          return;
        }
        step = "read from";
        http::async_read(stream, buffer, parser, [&](auto ec3, size_t) { failure = ec3; });
      });
    });
    io.run();
    if (failure) {
      return Error::Unavailable(std::string("cannot ") + step + " the router at " + path_ + ": " +
                                failure.message() + " (is `lastgood router` running?)");
    }
    return Reply{static_cast<int>(parser.get().result_int()), parser.get().body()};
  }

  const std::string path_;
};

}  // namespace

std::unique_ptr<RouterControl> NewRouterControlClient(const std::string& socket_path) {
  return std::make_unique<ControlClient>(socket_path);
}

}  // namespace lastgood
