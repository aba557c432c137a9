// RouterControl over the router's unix control socket (protocol in router/control.h).
// One request per connection (`Connection: close`) with blocking calls bounded by a deadline
// (base/unix_http.h, the client the controller also asks nodes with): the controller makes a
// few of these calls a second at most, so plain sockets do, and this file stays cheap to
// compile (Beast/Asio cost ~20 s of CPU here).
#include <chrono>
#include <string>

#include "base/unix_http.h"
#include "router/control.h"

namespace lastgood {
namespace {

// Persisting a table takes an fsync; a stats read is quick.
constexpr std::chrono::seconds kApplyTimeout{10};
constexpr std::chrono::seconds kQueryTimeout{5};

class ControlClient : public RouterControl {
 public:
  explicit ControlClient(std::string path) : path_(std::move(path)) {}

  Status Apply(const RoutingTable& table) override {
    auto reply = Call("PUT", "/v1/table", TableToJson(table), kApplyTimeout);
    if (!reply.ok()) return reply.error();
    return reply->status == 200 ? Status::Ok() : Status(ToError(*reply));
  }

  Result<RouterStats> Stats(Millis window) override {
    auto reply =
        Call("GET", "/v1/stats?window=" + std::to_string(window.count()) + "ms", "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    if (reply->status != 200) return ToError(*reply);
    return StatsFromJson(reply->body);
  }

  Status Ping() override {
    auto reply = Call("GET", "/v1/health", "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    return reply->status == 200 ? Status::Ok() : Status(ToError(*reply));
  }

  Result<RouterHealth> Health() override {
    auto reply = Call("GET", "/v1/health", "", kQueryTimeout);
    if (!reply.ok()) return reply.error();
    if (reply->status != 200) return ToError(*reply);
    return HealthFromJson(reply->body);
  }

 private:
  static Error ToError(const HttpReply& reply) { return ErrorFromReply(reply, "router"); }

  Result<HttpReply> Call(const char* method, const std::string& target, const std::string& body,
                         std::chrono::seconds timeout) {
    auto reply = UnixHttpCall(path_, method, target, body, Millis(timeout), "the router");
    if (!reply.ok())
      return Error::Unavailable(reply.error().message + " (is `lastgood router` running?)");
    return reply;
  }

  const std::string path_;
};

}  // namespace

std::unique_ptr<RouterControl> NewRouterControlClient(const std::string& socket_path) {
  return std::make_unique<ControlClient>(socket_path);
}

}  // namespace lastgood
