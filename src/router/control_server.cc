#include "router/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "router/router.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kControlIdleTimeout{30};
constexpr uint32_t kControlHeaderLimit = 16 * 1024;

Response Json(int status, const nlohmann::json& body) {
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = body.dump();
  return res;
}

Response ErrorResponse(const Error& e) {
  nlohmann::json error{{"code", ErrorCodeName(e.code)}, {"message", e.message}};
  if (!e.field.empty()) error["field"] = e.field;
  return Json(HttpStatusFor(e.code), {{"error", error}});
}

Response HandleControl(const ControlHandlers& h, const Request& req) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/v1/table") {
    if (req.method() != http::verb::put) return ErrorResponse(Error::InvalidInput("use PUT"));
    auto table = TableFromJson(req.body());
    if (!table.ok()) return ErrorResponse(table.error());
    auto generation = h.apply(*table);
    if (!generation.ok()) return ErrorResponse(generation.error());
    return Json(200, {{"generation", *generation}});
  }
  if (path == "/v1/stats" && req.method() == http::verb::get) {
    Millis window{10'000};
    size_t at = target.find("window=");
    if (at != std::string_view::npos) {
      std::string_view text = target.substr(at + 7);
      text = text.substr(0, text.find('&'));
      auto parsed = ParseDuration(text);
      if (!parsed.ok()) return ErrorResponse(Error::InvalidInput(parsed.error().message, "window"));
      window = *parsed;
    }
    Response res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = StatsToJson(h.stats(window));
    return res;
  }
  if (path == "/v1/health" && req.method() == http::verb::get) {
    Response res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = HealthToJson(h.health());
    return res;
  }
  return ErrorResponse(Error::NotFound("no such endpoint: " + std::string(path)));
}

template <class Socket>
asio::awaitable<void> Serve(Socket socket, const ControlHandlers& handlers) {
  using namespace asio::experimental::awaitable_operators;
  beast::flat_buffer buffer;
  asio::steady_timer timer(socket.get_executor());
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kControlBodyLimit);
    parser.header_limit(kControlHeaderLimit);
    timer.expires_after(kControlIdleTimeout);
    auto result =
        co_await (http::async_read(socket, buffer, parser, kNoThrow) || timer.async_wait(kNoThrow));
    if (result.index() == 1) break;
    auto [ec, n] = std::get<0>(result);
    Response res;
    bool keep = false;
    if (ec == http::error::body_limit) {
      res = ErrorResponse(Error::InvalidInput("the request body exceeds 4 MiB"));
      res.result(http::status::payload_too_large);
    } else if (ec) {
      break;
    } else {
      keep = parser.get().keep_alive();
      res = HandleControl(handlers, parser.get());
    }
    res.keep_alive(keep);
    res.prepare_payload();
    auto [write_ec, written] = co_await http::async_write(socket, res, kNoThrow);
    if (write_ec || !keep) break;
  }
  boost::system::error_code ignored;
  socket.close(ignored);
}

template <class Acceptor>
asio::awaitable<void> AcceptLoop(Acceptor& acceptor, const ControlHandlers& handlers) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket), handlers), asio::detached);
  }
}

class ControlServerImpl : public ControlServer {
 public:
  ControlServerImpl(asio::io_context& io, ControlHandlers handlers)
      : handlers_(std::move(handlers)), control_(io) {}

  Status Open(const std::string& socket_path, bool replace_live) {
    boost::system::error_code ec;
    local::socket probe(control_.get_executor());
    if (!replace_live) probe.connect(local::endpoint(socket_path), ec);
    if (!replace_live && !ec) {
      return Error::Conflict("another router is serving " + socket_path +
                             "; stop it first (its pid is in router.pid)");
    }
    ::unlink(socket_path.c_str());
    // The socket must never exist with looser permissions, even for a moment.
    mode_t old_mask = ::umask(0077);
    control_.open(local(), ec);
    if (!ec) control_.bind(local::endpoint(socket_path), ec);
    ::umask(old_mask);
    if (!ec) ::chmod(socket_path.c_str(), 0600);
    if (!ec) control_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error::Unavailable("cannot listen on " + socket_path + ": " + ec.message());
    struct stat st {};
    if (::stat(socket_path.c_str(), &st) == 0) inode_ = st.st_ino;
    socket_path_ = socket_path;
    asio::co_spawn(control_.get_executor(), AcceptLoop(control_, handlers_), asio::detached);
    return Status::Ok();
  }

  void Close() override {
    boost::system::error_code ignored;
    control_.close(ignored);
    // A successor may have replaced the path with its own socket by now: leave that one.
    struct stat st {};
    if (!socket_path_.empty() && ::stat(socket_path_.c_str(), &st) == 0 && st.st_ino == inode_)
      ::unlink(socket_path_.c_str());
    socket_path_.clear();
  }

 private:
  const ControlHandlers handlers_;
  local::acceptor control_;
  std::string socket_path_;
  ino_t inode_ = 0;
};

}  // namespace

Result<std::unique_ptr<ControlServer>> StartControlServer(asio::io_context& io,
                                                          const std::string& socket_path,
                                                          ControlHandlers handlers,
                                                          bool replace_live) {
  auto server = std::make_unique<ControlServerImpl>(io, std::move(handlers));
  Status s = server->Open(socket_path, replace_live);
  if (!s.ok()) return s.error();
  return std::unique_ptr<ControlServer>(std::move(server));
}

}  // namespace lastgood
