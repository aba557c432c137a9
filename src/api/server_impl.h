// ApiServer's internals, shared by its unix (server.cc) and TCP (tcp_server.cc) halves.
// Internal to api/.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <optional>
#include <set>
#include <thread>

#include "api/server.h"

namespace lastgood {

// Log lines for what a handler or a connection threw (api/server.cc).
void LogCrash(const ApiRequest& request, const char* what);
void LogConnectionCrash(const char* where, const char* what);

struct ApiServer::Impl {
  // Constant after Listen/ListenTcp.
  ApiHandler handle;  // Api::Handle, or a node's handler
  boost::asio::io_context io;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor;
  std::string path;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tcp_acceptor;
  std::optional<boost::asio::ssl::context> tls;  // set: TCP speaks TLS only
  std::string tcp_address;

  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable idle;
  int connections = 0;                              // GUARDED_BY(mu)
  std::set<boost::asio::io_context*> tcp_sessions;  // GUARDED_BY(mu): stopped by Stop()

  // api->Handle(request), except that whatever the handler throws is logged and answered
  // 500 (wire/json_text.h CrashResponse): one request never ends the controller.
  ApiResponse Answer(const ApiRequest& request);
  void Serve(boost::asio::local::stream_protocol::socket socket);
  // Accepts TCP connections until Stop(), one thread each.
  void RunTcp();
  void ServeTcp(boost::asio::ip::tcp::socket socket);
  // Counts a connection in, unless there are kMaxApiConnections already.
  bool Enter();
  void Leave();
};

}  // namespace lastgood
