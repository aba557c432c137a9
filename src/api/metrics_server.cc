// GET /metrics of the controller: on the API's route table, and on `serve --metrics`.
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include "api/metrics.h"
#include "base/exposition.h"

namespace lastgood {
namespace {

namespace bhttp = boost::beast::http;

// A scraper needs one connection; a few more for people with curl, never a flood.
constexpr int kMaxMetricsConnections = 8;
constexpr int kMaxMetricsPerAddress = 4;

http::Response Plain(unsigned version, bhttp::status status, std::string body,
                     const char* content_type = "text/plain; charset=utf-8") {
  http::Response r{status, version};
  r.set(bhttp::field::content_type, content_type);
  r.set(bhttp::field::cache_control, "no-store");
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

}  // namespace

ApiResponse MetricsAnswer(ControllerMetrics& metrics) {
  auto text = metrics.Text();
  if (!text.ok()) {
    return ApiResponse{503, "the store cannot be read: " + text.error().message + "\n",
                       "text/plain; charset=utf-8"};
  }
  return ApiResponse{200, std::move(*text), kExpositionContentType};
}

Result<std::string> ServeMetrics(http::Server* server, const boost::asio::ip::tcp::endpoint& at,
                                 ControllerMetrics* metrics) {
  http::Limits limits;
  limits.maxConnections = kMaxMetricsConnections;
  limits.maxPerAddress = kMaxMetricsPerAddress;
  limits.bodyBytes = 0;
  limits.name = "--metrics";
  return server->ListenTcp(at, limits, [metrics](const http::Peer&, http::Request& req) {
    const unsigned v = req.version();
    std::string target(req.target());
    if (target != "/metrics" && target.rfind("/metrics?", 0) != 0)
      return http::Answer(Plain(v, bhttp::status::not_found, "only GET /metrics here\n"));
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      auto r = Plain(v, bhttp::status::method_not_allowed, "only GET /metrics here\n");
      r.set(bhttp::field::allow, "GET, HEAD");
      return http::Answer(std::move(r));
    }
    ApiResponse a = MetricsAnswer(*metrics);
    return http::Answer(
        Plain(v, static_cast<bhttp::status>(a.status), std::move(a.body), a.contentType.c_str()));
  });
}

}  // namespace lastgood
